#include "wsclient.h"

#include <QByteArray>
#include <QCryptographicHash>
#include <QRandomGenerator>

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace OmwBench {

namespace {

std::string g_handshakeKey;
std::string g_expectedAccept;
uint64_t g_maskState = 0x9e3779b97f4a7c15ULL;

// xorshift64*: masking keys need to vary, not to be secret, for a load generator on loopback.
uint32_t nextMaskKey()
{
    g_maskState ^= g_maskState >> 12;
    g_maskState ^= g_maskState << 25;
    g_maskState ^= g_maskState >> 27;
    return uint32_t((g_maskState * 0x2545f4914f6cdd1dULL) >> 32);
}

std::string errnoName(int error)
{
    switch (error) {
    case EMFILE:
        return "EMFILE";
    case ENFILE:
        return "ENFILE";
    case EADDRNOTAVAIL:
        return "EADDRNOTAVAIL";
    case EADDRINUSE:
        return "EADDRINUSE";
    case ECONNREFUSED:
        return "ECONNREFUSED";
    case ECONNRESET:
        return "ECONNRESET";
    case ETIMEDOUT:
        return "ETIMEDOUT";
    case ENOBUFS:
        return "ENOBUFS";
    case ENOMEM:
        return "ENOMEM";
    case EPIPE:
        return "EPIPE";
    default:
        return "errno" + std::to_string(error);
    }
}

bool startsWithCaseInsensitive(std::string_view text, std::string_view prefix)
{
    if (text.size() < prefix.size())
        return false;
    for (size_t i = 0; i < prefix.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(text[i]))
            != std::tolower(static_cast<unsigned char>(prefix[i])))
            return false;
    }
    return true;
}

} // namespace

void WsClient::initHandshakeKey()
{
    QByteArray nonce(16, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(nonce.data()), 4);
    const QByteArray key = nonce.toBase64();
    // The GUID that RFC 6455 appends to the key before hashing.
    QByteArray concatenated = key;
    concatenated.append("258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    const QByteArray accept
        = QCryptographicHash::hash(concatenated, QCryptographicHash::Sha1).toBase64();
    g_handshakeKey = key.toStdString();
    g_expectedAccept = accept.toStdString();
    g_maskState ^= QRandomGenerator::system()->generate64() | 1;
}

WsClient::~WsClient()
{
    if (m_fd >= 0)
        close(m_fd);
}

bool WsClient::start(const Endpoint &endpoint, in_addr source)
{
    m_in.clear();
    m_out.clear();
    m_message.clear();
    m_failure.clear();
    m_closeCode = 0;
    m_wantWrite = false;
    m_paused = false;
    m_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (m_fd < 0) {
        m_state = State::Closed;
        m_failure = "socket:" + errnoName(errno);
        return false;
    }
    const int one = 1;
    setsockopt(m_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // Let connect() pick the port, so that each source address has its own 28k ports.
    setsockopt(m_fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    sockaddr_in local {};
    local.sin_family = AF_INET;
    local.sin_addr = source;
    if (bind(m_fd, reinterpret_cast<const sockaddr *>(&local), sizeof local) != 0) {
        fail("bind:" + errnoName(errno));
        return false;
    }
    const int result = connect(m_fd, reinterpret_cast<const sockaddr *>(&endpoint.server),
                               sizeof endpoint.server);
    if (result != 0 && errno != EINPROGRESS) {
        fail("connect:" + errnoName(errno));
        return false;
    }
    m_out = "GET " + endpoint.path + " HTTP/1.1\r\nHost: " + endpoint.hostHeader
        + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + g_handshakeKey
        + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
    m_state = State::Connecting;
    m_wantWrite = true;
    if (!m_loop->add(m_fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP, this)) {
        fail("epoll:" + errnoName(errno));
        return false;
    }
    return true;
}

void WsClient::fail(std::string reason)
{
    if (m_state == State::Closed)
        return;
    if (m_failure.empty())
        m_failure = std::move(reason);
    if (m_fd >= 0) {
        m_loop->remove(m_fd);
        close(m_fd);
        m_fd = -1;
    }
    const bool wasStarted = m_state != State::Idle;
    m_state = State::Closed;
    if (wasStarted)
        closed();
}

void WsClient::abort()
{
    if (m_fd >= 0) {
        m_loop->remove(m_fd);
        close(m_fd);
        m_fd = -1;
    }
    m_state = State::Closed;
}

void WsClient::pauseReading()
{
    if (m_fd < 0 || m_paused)
        return;
    m_paused = true;
    m_loop->modify(m_fd, m_wantWrite ? EPOLLOUT : 0u, this);
}

void WsClient::handleEvents(uint32_t events, int64_t readyNs)
{
    if (m_fd < 0)
        return;
    if (m_paused && !(events & (EPOLLERR | EPOLLHUP)))
        events &= ~uint32_t(EPOLLIN | EPOLLRDHUP);
    if (m_state == State::Connecting && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
        int error = 0;
        socklen_t length = sizeof error;
        getsockopt(m_fd, SOL_SOCKET, SO_ERROR, &error, &length);
        if (error != 0) {
            fail("connect:" + errnoName(error));
            return;
        }
        m_state = State::Handshaking;
    }
    if (events & EPOLLOUT)
        flush();
    if (m_fd >= 0 && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
        readAvailable(readyNs);
}

void WsClient::readAvailable(int64_t readyNs)
{
    char buffer[65536];
    for (;;) {
        const ssize_t count = read(m_fd, buffer, sizeof buffer);
        if (count > 0) {
            m_in.append(buffer, size_t(count));
            if (m_state == State::Handshaking && !parseHandshake(readyNs))
                return;
            if (m_state == State::Open)
                parseFrames(readyNs);
            if (m_fd < 0)
                return;
            if (size_t(count) < sizeof buffer)
                return;
            continue;
        }
        if (count == 0) {
            fail(m_closeCode ? "close:" + std::to_string(m_closeCode) : "eof");
            return;
        }
        if (errno == EAGAIN || errno == EINTR)
            return;
        fail(errno == ECONNRESET ? std::string("reset") : "read:" + errnoName(errno));
        return;
    }
}

bool WsClient::parseHandshake(int64_t readyNs)
{
    const size_t end = m_in.find("\r\n\r\n");
    if (end == std::string::npos) {
        if (m_in.size() > 16384)
            fail("http:oversized");
        return false;
    }
    const std::string_view head(m_in.data(), end);
    // Status line: "HTTP/1.1 101 Switching Protocols".
    const size_t space = head.find(' ');
    const int status = space == std::string_view::npos ? 0 : std::atoi(head.data() + space + 1);
    if (status != 101) {
        fail("http:" + std::to_string(status));
        return false;
    }
    bool acceptMatches = false;
    size_t lineStart = head.find("\r\n");
    while (lineStart != std::string_view::npos) {
        lineStart += 2;
        const size_t lineEnd = head.find("\r\n", lineStart);
        const std::string_view line = head.substr(lineStart, lineEnd - lineStart);
        if (startsWithCaseInsensitive(line, "sec-websocket-accept:")) {
            std::string_view value = line.substr(21);
            while (!value.empty() && value.front() == ' ')
                value.remove_prefix(1);
            acceptMatches = value == g_expectedAccept;
        }
        lineStart = lineEnd;
    }
    if (!acceptMatches) {
        fail("http:bad-accept");
        return false;
    }
    m_in.erase(0, end + 4);
    m_state = State::Open;
    opened(readyNs);
    return m_fd >= 0;
}

void WsClient::parseFrames(int64_t readyNs)
{
    size_t offset = 0;
    while (m_fd >= 0) {
        const size_t available = m_in.size() - offset;
        if (available < 2)
            break;
        const auto *bytes = reinterpret_cast<const uint8_t *>(m_in.data() + offset);
        const bool fin = bytes[0] & 0x80;
        const uint8_t opcode = bytes[0] & 0x0f;
        const bool masked = bytes[1] & 0x80;
        uint64_t length = bytes[1] & 0x7f;
        size_t header = 2;
        if (length == 126) {
            if (available < 4)
                break;
            length = (uint64_t(bytes[2]) << 8) | bytes[3];
            header = 4;
        } else if (length == 127) {
            if (available < 10)
                break;
            length = 0;
            for (int i = 0; i < 8; ++i)
                length = (length << 8) | bytes[2 + i];
            header = 10;
        }
        uint8_t mask[4] = {0, 0, 0, 0};
        if (masked) {
            if (available < header + 4)
                break;
            std::memcpy(mask, bytes + header, 4);
            header += 4;
        }
        if (length > (64u << 20)) {
            fail("frame:oversized");
            return;
        }
        if (available < header + length)
            break;
        char *payload = m_in.data() + offset + header;
        if (masked) {
            for (uint64_t i = 0; i < length; ++i)
                payload[i] = char(payload[i] ^ mask[i % 4]);
        }
        offset += header + size_t(length);

        switch (opcode) {
        case 0x0: // continuation
            m_message.append(payload, size_t(length));
            if (fin) {
                textReceived(m_message.data(), m_message.size(), readyNs);
                m_message.clear();
            }
            break;
        case 0x1: // text
        case 0x2: // binary: Omw sends none; handled like text so a count shows it
            if (fin) {
                textReceived(payload, size_t(length), readyNs);
            } else {
                m_message.assign(payload, size_t(length));
            }
            break;
        case 0x8: { // close
            m_closeCode = length >= 2 ? (uint8_t(payload[0]) << 8) | uint8_t(payload[1]) : 1005;
            sendFrame(0x8, payload, length >= 2 ? 2 : 0);
            fail("close:" + std::to_string(m_closeCode));
            return;
        }
        case 0x9: // ping
            sendFrame(0xA, payload, size_t(length));
            break;
        case 0xA: // pong
            break;
        default:
            fail("frame:opcode" + std::to_string(opcode));
            return;
        }
    }
    if (m_fd >= 0)
        m_in.erase(0, offset);
}

void WsClient::sendText(std::string_view payload)
{
    if (m_state != State::Open)
        return;
    sendFrame(0x1, payload.data(), payload.size());
}

void WsClient::sendFrame(uint8_t opcode, const char *payload, size_t size)
{
    if (m_fd < 0)
        return;
    const size_t start = m_out.size();
    size_t header = 2;
    uint8_t head[14];
    head[0] = uint8_t(0x80 | opcode);
    if (size < 126) {
        head[1] = uint8_t(0x80 | size);
    } else if (size <= 0xffff) {
        head[1] = 0x80 | 126;
        head[2] = uint8_t(size >> 8);
        head[3] = uint8_t(size);
        header = 4;
    } else {
        head[1] = 0x80 | 127;
        for (int i = 0; i < 8; ++i)
            head[2 + i] = uint8_t(uint64_t(size) >> (56 - 8 * i));
        header = 10;
    }
    const uint32_t key = nextMaskKey();
    std::memcpy(head + header, &key, 4);
    const auto *mask = head + header;
    header += 4;
    m_out.append(reinterpret_cast<const char *>(head), header);
    m_out.append(payload, size);
    char *body = m_out.data() + start + header;
    for (size_t i = 0; i < size; ++i)
        body[i] = char(body[i] ^ mask[i % 4]);
    if (m_state == State::Open || opcode == 0x8)
        flush();
}

void WsClient::flush()
{
    if (m_fd < 0 || m_state == State::Connecting)
        return;
    while (!m_out.empty()) {
        const ssize_t count = send(m_fd, m_out.data(), m_out.size(), MSG_NOSIGNAL);
        if (count > 0) {
            m_out.erase(0, size_t(count));
            continue;
        }
        if (count < 0 && (errno == EAGAIN || errno == EINTR))
            break;
        fail(errno == ECONNRESET || errno == EPIPE ? std::string("reset")
                                                   : "write:" + errnoName(errno));
        return;
    }
    updateInterest();
}

void WsClient::updateInterest()
{
    const bool wantWrite = !m_out.empty();
    if (wantWrite == m_wantWrite)
        return;
    m_wantWrite = wantWrite;
    const uint32_t readEvents = m_paused ? 0u : uint32_t(EPOLLIN | EPOLLRDHUP);
    m_loop->modify(m_fd, readEvents | (wantWrite ? EPOLLOUT : 0u), this);
}

} // namespace OmwBench
