#include "harness.h"

#include "phoenixcodec.h"

#include <QJsonDocument>
#include <QJsonObject>

#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

namespace OmwBench {

using Omw::Phoenix::Message;

std::vector<std::string> defaultServerArguments()
{
    return {"--max-connections",
            "19900",
            "--max-followers",
            "20000",
            "--max-rides",
            "10000",
            "--message-rate",
            "100000",
            "--message-burst",
            "100000",
            "--follow-join-rate",
            "100000",
            "--follow-join-burst",
            "100000",
            "--max-rides-per-address",
            "10000",
            "--max-reservations-per-address",
            "10000"};
}

in_addr sourceAddress(long index, int count)
{
    in_addr address {};
    const long host = 2 + index % std::max(count, 1);
    address.s_addr = htonl((127u << 24) | uint32_t(host));
    return address;
}

LineChannel::~LineChannel()
{
    if (m_fd >= 0)
        close(m_fd);
}

void LineChannel::writeLine(const std::string &line)
{
    std::string text = line + '\n';
    size_t offset = 0;
    while (offset < text.size()) {
        const ssize_t count = write(m_fd, text.data() + offset, text.size() - offset);
        if (count > 0) {
            offset += size_t(count);
        } else if (count < 0 && (errno == EAGAIN || errno == EINTR)) {
            usleep(1000);
        } else {
            m_closed = true;
            return;
        }
    }
}

std::string LineChannel::takeLine()
{
    std::string line = std::move(m_lines.front());
    m_lines.pop_front();
    return line;
}

void LineChannel::handleEvents(uint32_t, int64_t)
{
    char buffer[65536];
    for (;;) {
        const ssize_t count = read(m_fd, buffer, sizeof buffer);
        if (count > 0) {
            m_buffer.append(buffer, size_t(count));
            size_t newline;
            while ((newline = m_buffer.find('\n')) != std::string::npos) {
                m_lines.push_back(m_buffer.substr(0, newline));
                m_buffer.erase(0, newline + 1);
            }
            continue;
        }
        if (count == 0)
            m_closed = true;
        return;
    }
}

SendTable::SendTable(int rides, int64_t sequences) : m_sequences(sequences)
{
    m_bytes = size_t(rides) * size_t(sequences) * sizeof(std::atomic<int64_t>);
    void *memory
        = mmap(nullptr, m_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (memory != MAP_FAILED)
        m_times = static_cast<std::atomic<int64_t> *>(memory);
}

SendTable::~SendTable()
{
    if (m_times)
        munmap(m_times, m_bytes);
}

double pointLatitude(int64_t sequence)
{
    return 10.0 + double(sequence) * 1e-5;
}

int64_t sequenceFromLatitude(double latitude)
{
    return std::llround((latitude - 10.0) * 1e5);
}

void PhoenixClient::send(const Message &message)
{
    const QByteArray text = Omw::Phoenix::encode(message, Omw::Phoenix::Serializer::V2);
    sendText(std::string_view(text.constData(), size_t(text.size())));
}

void PhoenixClient::textReceived(const char *data, size_t size, int64_t)
{
    const auto result
        = Omw::Phoenix::decode(QByteArray(data, qsizetype(size)), Omw::Phoenix::Serializer::V2);
    if (!result.isValid()) {
        std::fprintf(stderr, "omw-bench: undecodable frame from the server: %s\n",
                     qPrintable(result.errorString));
        return;
    }
    if (onMessage)
        onMessage(result.message);
    else
        m_received.push_back(result.message);
}

bool runUntil(EventLoop &loop, const std::function<bool()> &done, double timeoutSeconds)
{
    const int64_t deadline = monotonicNs() + int64_t(timeoutSeconds * 1e9);
    while (!done()) {
        const int64_t remaining = deadline - monotonicNs();
        if (remaining <= 0)
            return done();
        loop.runOnce(std::min<int64_t>(remaining, 50'000'000));
    }
    return true;
}

namespace {

// Waits for the reply to `ref` on `client`; returns it, or a reply with status "timeout".
Message waitForReply(EventLoop &loop, PhoenixClient &client, const QString &ref)
{
    Message reply;
    bool found = false;
    runUntil(
        loop,
        [&] {
            auto &queue = client.received();
            for (auto it = queue.begin(); it != queue.end(); ++it) {
                if (it->event == Omw::Phoenix::Event::reply && it->ref.toString() == ref) {
                    reply = *it;
                    queue.erase(it);
                    found = true;
                    break;
                }
            }
            return found || client.state() == WsClient::State::Closed;
        },
        10);
    if (!found) {
        reply.event = Omw::Phoenix::Event::reply;
        reply.payload = QJsonObject {{"status", "timeout"}};
    }
    return reply;
}

QString replyStatus(const Message &reply)
{
    return reply.payload.toObject().value("status").toString();
}

QString describeReply(const Message &reply)
{
    return QString::fromUtf8(
        QJsonDocument(reply.payload.toObject()).toJson(QJsonDocument::Compact));
}

int64_t epochMilliseconds()
{
    timespec now {};
    clock_gettime(CLOCK_REALTIME, &now);
    return int64_t(now.tv_sec) * 1000 + now.tv_nsec / 1'000'000;
}

} // namespace

bool createRides(EventLoop &loop, const Endpoint &endpoint, int count, std::vector<Ride> &rides,
                 SendTable *table)
{
    rides.resize(size_t(count));
    for (int i = 0; i < count; ++i) {
        rides[size_t(i)].rider = std::make_unique<PhoenixClient>(&loop);
        if (!rides[size_t(i)].rider->start(endpoint, sourceAddress(i, 1))) {
            std::fprintf(stderr, "omw-bench: rider %d cannot connect: %s\n", i,
                         rides[size_t(i)].rider->failure().c_str());
            return false;
        }
    }
    runUntil(
        loop,
        [&] {
            for (auto &ride : rides) {
                if (ride.rider->state() != WsClient::State::Open
                    && ride.rider->state() != WsClient::State::Closed)
                    return false;
            }
            return true;
        },
        10);
    for (int i = 0; i < count; ++i) {
        Ride &ride = rides[size_t(i)];
        PhoenixClient &client = *ride.rider;
        if (client.state() != WsClient::State::Open) {
            std::fprintf(stderr, "omw-bench: rider %d did not connect: %s\n", i,
                         client.failure().empty() ? "timed out" : client.failure().c_str());
            return false;
        }
        const Message join {"1", "1", "onboarding", Omw::Phoenix::Event::join, QJsonObject {}};
        client.send(join);
        Message reply = waitForReply(loop, client, "1");
        if (replyStatus(reply) != "ok") {
            std::fprintf(stderr, "omw-bench: joining onboarding failed: %s\n",
                         qPrintable(describeReply(reply)));
            return false;
        }
        client.send(Message {"1", "2", "onboarding", "CREATE_SESSION", QJsonObject {}});
        reply = waitForReply(loop, client, "2");
        const QJsonObject created = reply.payload.toObject().value("response").toObject();
        const QString slug = created.value("slug").toString();
        const QString token = created.value("token").toString();
        if (replyStatus(reply) != "ok" || slug.isEmpty() || token.isEmpty()) {
            std::fprintf(stderr, "omw-bench: CREATE_SESSION failed: %s\n",
                         qPrintable(describeReply(reply)));
            return false;
        }
        ride.slug = slug.toStdString();
        client.send(Message {"3", "3", "tracking:" + slug, Omw::Phoenix::Event::join,
                             QJsonObject {{"token", token}}});
        reply = waitForReply(loop, client, "3");
        if (replyStatus(reply) != "ok") {
            std::fprintf(stderr, "omw-bench: the rider's join of tracking:%s failed: %s\n",
                         qPrintable(slug), qPrintable(describeReply(reply)));
            return false;
        }
        sendPoint(ride, i, 0, table);
        reply = waitForReply(loop, client, QString::number(ride.nextRef - 1));
        ride.pending = 0;
        if (replyStatus(reply) != "ok") {
            std::fprintf(stderr, "omw-bench: the warm-up point of %s was rejected: %s\n",
                         qPrintable(slug), qPrintable(describeReply(reply)));
            return false;
        }
        // From here on the rider only counts the replies to its points.
        client.onMessage = [&ride](const Message &message) {
            if (message.event != Omw::Phoenix::Event::reply)
                return;
            if (ride.pending > 0)
                --ride.pending;
            const QJsonObject payload = message.payload.toObject();
            if (payload.value("status").toString() == "ok") {
                ++ride.accepted;
            } else {
                const QString reason
                    = payload.value("response").toObject().value("reason").toString();
                ++ride.rejected[reason.isEmpty() ? "unknown" : reason.toStdString()];
            }
        };
    }
    return true;
}

void sendPoint(Ride &ride, int index, int64_t sequence, SendTable *table)
{
    const QJsonObject point {
        {"latitude", pointLatitude(sequence)},
        {"longitude", 20.0 + index * 1e-3},
        {"speed", 12.5},
        {"heading", 90},
        {"accuracy", 5},
        {"timestamp", double(epochMilliseconds())},
    };
    const Message message {"3", QString::number(ride.nextRef++),
                           QString::fromStdString("tracking:" + ride.slug), "NEW_COORDS", point};
    const QByteArray text = Omw::Phoenix::encode(message, Omw::Phoenix::Serializer::V2);
    if (table)
        table->setSendTime(index, sequence, monotonicNs());
    ++ride.pending;
    ride.rider->sendText(std::string_view(text.constData(), size_t(text.size())));
}

WorkerSet::~WorkerSet()
{
    m_channels.clear();
    waitAll();
}

bool WorkerSet::start(int count, int cpu, const std::function<int(int, int)> &body, EventLoop &loop)
{
    std::fflush(stdout);
    std::fflush(stderr);
    for (int index = 0; index < count; ++index) {
        int pair[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
            std::perror("omw-bench: socketpair");
            return false;
        }
        const pid_t pid = fork();
        if (pid < 0) {
            std::perror("omw-bench: fork");
            return false;
        }
        if (pid == 0) {
            // The child keeps its end of the control channel and nothing else of the driver:
            // no rider sockets, no other channel, no epoll instance.
            dup2(pair[1], 3);
            close_range(4, ~0U, 0);
            fcntl(3, F_SETFL, O_NONBLOCK);
            pinToCpu(cpu);
            _exit(body(index, 3));
        }
        close(pair[1]);
        m_pids.push_back(pid);
        auto channel = std::make_unique<LineChannel>(pair[0]);
        fcntl(pair[0], F_SETFL, O_NONBLOCK);
        loop.add(pair[0], EPOLLIN, channel.get());
        m_channels.push_back(std::move(channel));
    }
    return true;
}

void WorkerSet::broadcast(const std::string &line)
{
    for (auto &channel : m_channels)
        channel->writeLine(line);
}

std::vector<std::string> WorkerSet::collect(EventLoop &loop, const std::string &prefix,
                                            double timeoutSeconds)
{
    std::vector<std::string> lines(m_channels.size());
    std::vector<bool> have(m_channels.size(), false);
    runUntil(
        loop,
        [&] {
            bool all = true;
            for (size_t i = 0; i < m_channels.size(); ++i) {
                while (!have[i] && m_channels[i]->hasLine()) {
                    std::string line = m_channels[i]->takeLine();
                    if (line.rfind(prefix, 0) == 0) {
                        lines[i] = std::move(line);
                        have[i] = true;
                    }
                }
                if (!have[i] && !m_channels[i]->isClosed())
                    all = false;
            }
            return all;
        },
        timeoutSeconds);
    return lines;
}

void WorkerSet::waitAll()
{
    for (const pid_t pid : m_pids) {
        int status = 0;
        for (int i = 0; i < 500 && waitpid(pid, &status, WNOHANG) == 0; ++i)
            usleep(10'000);
        if (waitpid(pid, &status, WNOHANG) == 0) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
        }
    }
    m_pids.clear();
}

std::map<std::string, std::string> parseFields(const std::string &line)
{
    std::map<std::string, std::string> fields;
    std::istringstream tokens(line);
    std::string token;
    while (tokens >> token) {
        const size_t equals = token.find('=');
        if (equals != std::string::npos)
            fields[token.substr(0, equals)] = token.substr(equals + 1);
    }
    return fields;
}

void mergeFailures(const std::string &field, std::map<std::string, uint64_t> &into)
{
    std::istringstream items(field);
    std::string item;
    while (std::getline(items, item, ',')) {
        const size_t colon = item.rfind('#');
        if (colon == std::string::npos)
            continue;
        into[item.substr(0, colon)] += std::stoull(item.substr(colon + 1));
    }
}

std::string serializeFailures(const std::map<std::string, uint64_t> &failures)
{
    std::string text;
    for (const auto &[reason, count] : failures) {
        if (!text.empty())
            text += ',';
        text += reason + '#' + std::to_string(count);
    }
    return text.empty() ? "-" : text;
}

std::string limitHit(const std::map<std::string, uint64_t> &failures)
{
    std::string worst = "none";
    uint64_t most = 0;
    for (const auto &[reason, count] : failures) {
        if (count > most) {
            most = count;
            worst = reason;
        }
    }
    return worst;
}

Endpoint makeEndpoint(int port)
{
    Endpoint endpoint;
    endpoint.server.sin_family = AF_INET;
    endpoint.server.sin_port = htons(uint16_t(port));
    endpoint.server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    endpoint.hostHeader = "127.0.0.1:" + std::to_string(port);
    return endpoint;
}

std::string fetchMetrics(int port)
{
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return {};
    timeval timeout {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    const Endpoint endpoint = makeEndpoint(port);
    std::string response;
    if (connect(fd, reinterpret_cast<const sockaddr *>(&endpoint.server), sizeof endpoint.server)
        == 0) {
        const std::string request = "GET /metrics HTTP/1.1\r\nHost: " + endpoint.hostHeader
            + "\r\nConnection: close\r\n\r\n";
        if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) == ssize_t(request.size())) {
            char buffer[65536];
            ssize_t count;
            while ((count = read(fd, buffer, sizeof buffer)) > 0)
                response.append(buffer, size_t(count));
        }
    }
    close(fd);
    return response;
}

double metricValue(const std::string &metrics, const std::string &name)
{
    std::istringstream lines(metrics);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.size() > name.size() && line.compare(0, name.size(), name) == 0
            && line[name.size()] == ' ')
            return std::atof(line.c_str() + name.size() + 1);
    }
    return -1;
}

int processesFor(const Options &options, long connections)
{
    if (options.processes > 0)
        return options.processes;
    return int(std::max<long>(1, (connections + 14'999) / 15'000));
}

bool startServer(const Options &options, ServerProcess &server)
{
    std::vector<std::string> arguments = defaultServerArguments();
    arguments.insert(arguments.end(), options.serverArguments.begin(),
                     options.serverArguments.end());
    if (!server.start(options.serverProgram, arguments, options.serverCpu, options.niceness,
                      options.serverLog, options.serverLoggingRules)) {
        std::fprintf(stderr, "omw-bench: %s\n", server.errorString().c_str());
        return false;
    }
    return true;
}

void printJson(const QJsonObject &object)
{
    // Other processes on the machine take CPU from both the server and the generator, so
    // every result records the load average it was measured under.
    QJsonObject withLoad = object;
    std::ifstream loadFile("/proc/loadavg");
    double load = -1;
    loadFile >> load;
    withLoad.insert("machine_loadavg_1min", load);
    // The server inherits the environment; QT_NO_GLIB selects Qt's own event dispatcher.
    withLoad.insert("qt_no_glib", qEnvironmentVariableIsSet("QT_NO_GLIB"));
    withLoad.insert("niceness", getpriority(PRIO_PROCESS, 0));
    std::printf("%s\n", QJsonDocument(withLoad).toJson(QJsonDocument::Compact).constData());
    std::fflush(stdout);
}

} // namespace OmwBench
