// Drives three real Omw::Connection objects, sharing one real SessionManager, with a fuzzed
// sequence of client events: rides are created, joined, followed, fed positions and dropped
// through the same code the server runs for every WebSocket. Only the transport is replaced, by
// one that keeps frames in memory; it checks that every frame the server sends decodes with the
// connection's serializer.
//
// Input: one event per line. The first character selects the event, the rest is its text.
//   '0', '1', '2'  text frame on connection 0, 1 or 2 (0 and 1 speak V2, 2 speaks V1)
//   'b'            binary frame on connection 0
//   'p'            ping on connection 1
//   'x'            connection 0 drops without a close frame and is replaced by a new one
//   'c'            connection 1 closes cleanly (1000) and is replaced by a new one
//   's'            connection 2 stops reading: its send queue reports the rest of the line as
//                  a byte count, so the server's slow-follower limit is reached
//   anything else  text frame on connection 0, the whole line

#include "connection.h"
#include "fuzzsupport.h"
#include "metrics.h"
#include "outgoingframe.h"
#include "serverconfig.h"
#include "sessionmanager.h"

#include <QTemporaryFile>

#include <array>
#include <memory>

using Omw::Phoenix::Serializer;

namespace {

const QByteArray dispatchToken = QByteArrayLiteral("fuzz-dispatch-token");

class MemoryTransport final : public Omw::WebSocketTransport
{
public:
    explicit MemoryTransport(Serializer serializer) : m_serializer(serializer) { }

    void sendText(const QByteArray &utf8) override { checkSent(utf8); }
    void sendFrame(const Omw::OutgoingFrame &frame, Serializer serializer) override
    {
        if (serializer != m_serializer) {
            OmwFuzz::fail("a broadcast encoded for the other serializer");
        }
        frame.wireFrame(serializer);
        checkSent(frame.text(serializer).toUtf8());
    }
    qint64 bytesToWrite() const override { return m_backlog; }
    void close(QWebSocketProtocol::CloseCode code, const QString &reason) override
    {
        if (m_closeCode == QWebSocketProtocol::CloseCodeAbnormalDisconnection) {
            m_closeCode = code;
            m_closeReason = reason;
        }
        m_finished = true;
    }
    void abort() override { m_finished = true; }
    int closeCode() const override { return m_closeCode; }
    QString closeReason() const override { return m_closeReason; }

    // The peer side.
    void receiveText(const QByteArray &utf8)
    {
        if (!m_finished) {
            m_handler->textMessageReceived(utf8);
        }
    }
    void receiveBinary()
    {
        if (!m_finished) {
            m_handler->binaryMessageReceived();
        }
    }
    void receivePing()
    {
        if (!m_finished) {
            m_handler->controlFrameReceived();
        }
    }
    void peerClose(int code)
    {
        if (m_closeCode == QWebSocketProtocol::CloseCodeAbnormalDisconnection) {
            m_closeCode = code;
        }
        m_finished = true;
    }
    void setBacklog(qint64 bytes) { m_backlog = bytes; }
    // A closed or aborted transport reports the end once, outside the call that ended it, as
    // both real transports do.
    void deliverEnd()
    {
        if (m_finished && !m_endDelivered && m_handler) {
            m_endDelivered = true;
            m_handler->transportClosed();
        }
    }

private:
    void checkSent(const QByteArray &utf8) const
    {
        if (m_endDelivered) {
            OmwFuzz::fail("a frame sent after the transport closed");
        }
        if (!Omw::Phoenix::decode(utf8, m_serializer).isValid()) {
            OmwFuzz::fail("the server sent a frame that does not decode");
        }
    }

    Serializer m_serializer;
    qint64 m_backlog = 0;
    int m_closeCode = QWebSocketProtocol::CloseCodeAbnormalDisconnection;
    QString m_closeReason;
    bool m_finished = false;
    bool m_endDelivered = false;
};

struct Peer
{
    MemoryTransport *transport = nullptr; // owned by the connection
    std::unique_ptr<Omw::Connection> connection;
};

class Harness
{
public:
    explicit Harness(const Omw::ServerConfig &config)
        : m_config(config), m_sessions(m_config, &m_metrics)
    {
        for (std::size_t i = 0; i < m_peers.size(); ++i) {
            open(i);
        }
    }

    ~Harness()
    {
        // Every peer drops, so the leave logic of every channel runs before the rides go.
        for (std::size_t i = 0; i < m_peers.size(); ++i) {
            m_peers[i].transport->peerClose(QWebSocketProtocol::CloseCodeAbnormalDisconnection);
            m_peers[i].transport->deliverEnd();
        }
        QCoreApplication::processEvents();
        for (Peer &peer : m_peers) {
            peer.connection.reset();
        }
        if (m_metrics.connections != 0) {
            OmwFuzz::fail("omw_connections is not 0 once every connection is gone");
        }
        for (qint64 channels : m_metrics.channels) {
            if (channels != 0) {
                OmwFuzz::fail("omw_channels is not 0 once every connection is gone");
            }
        }
    }

    void run(const QByteArray &line)
    {
        const char selector = line.isEmpty() ? '\0' : line.at(0);
        const QByteArray rest = line.mid(1);
        switch (selector) {
        case '0':
        case '1':
        case '2':
            m_peers[std::size_t(selector - '0')].transport->receiveText(rest);
            break;
        case 'b':
            m_peers[0].transport->receiveBinary();
            break;
        case 'p':
            m_peers[1].transport->receivePing();
            break;
        case 'x':
            m_peers[0].transport->peerClose(QWebSocketProtocol::CloseCodeAbnormalDisconnection);
            break;
        case 'c':
            m_peers[1].transport->peerClose(QWebSocketProtocol::CloseCodeNormal);
            break;
        case 's':
            m_peers[2].transport->setBacklog(rest.toLongLong());
            break;
        default:
            m_peers[0].transport->receiveText(line);
            break;
        }
        settle();
    }

private:
    void open(std::size_t index)
    {
        const Serializer serializer = index == 2 ? Serializer::V1 : Serializer::V2;
        auto transport = std::make_unique<MemoryTransport>(serializer);
        Peer &peer = m_peers[index];
        peer.transport = transport.get();
        peer.connection = std::make_unique<Omw::Connection>(
            std::move(transport), serializer, m_nextId++, QHostAddress(QHostAddress::LocalHost),
            Omw::ServerContext {&m_config, &m_sessions, &m_metrics}, nullptr);
    }

    // Delivers the end of every transport that closed, and replaces its connection.
    void settle()
    {
        for (std::size_t i = 0; i < m_peers.size(); ++i) {
            MemoryTransport *transport = m_peers[i].transport;
            transport->deliverEnd();
        }
        for (std::size_t i = 0; i < m_peers.size(); ++i) {
            if (m_peers[i].connection->isClosing()) {
                m_peers[i].transport->peerClose(QWebSocketProtocol::CloseCodeNormal);
                m_peers[i].transport->deliverEnd();
                m_peers[i].connection.reset();
                open(i);
            }
        }
        QCoreApplication::processEvents();
    }

    Omw::ServerConfig m_config;
    Omw::Metrics m_metrics;
    Omw::SessionManager m_sessions;
    std::array<Peer, 3> m_peers;
    quint64 m_nextId = 1;
};

Omw::ServerConfig *fuzzConfig()
{
    static Omw::ServerConfig config = [] {
        Omw::ServerConfig c;
        c.port = 0;
        c.maxChannels = 4;
        c.trailLength = 8;
        c.maxFollowers = 3;
        c.maxRides = 4;
        c.sendQueueLimit = 4096;
        c.messageRate = 1000;
        c.messageBurst = 50;
        static QTemporaryFile tokenFile;
        if (tokenFile.open()) {
            tokenFile.write(dispatchToken + '\n');
            tokenFile.flush();
            c.dispatchTokenFile = tokenFile.fileName();
        }
        return c;
    }();
    return &config;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    OmwFuzz::initialize(argc, argv);
    fuzzConfig();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const QByteArray input(reinterpret_cast<const char *>(data), qsizetype(size));
    Harness harness(*fuzzConfig());
    const QList<QByteArray> lines = input.split('\n');
    // A bound on events per input keeps each run short; longer inputs add nothing new.
    for (qsizetype i = 0; i < lines.size() && i < 64; ++i) {
        harness.run(lines.at(i));
    }
    return 0;
}
