#include "server.h"

#include <QTcpSocket>
#include <QTest>

#include <memory>

using Omw::Server;
using Omw::ServerConfig;

namespace {

// A WebSocket client written from RFC 6455 over a plain QTcpSocket, so that tests control every
// byte: masking, fragmentation, opcodes, and where TCP segments split.
class RawClient
{
public:
    bool connectTo(quint16 port)
    {
        m_socket.connectToHost(QHostAddress::LocalHost, port);
        return m_socket.waitForConnected(5000);
    }

    void write(const QByteArray &bytes)
    {
        m_socket.write(bytes);
        m_socket.flush();
    }

    static QByteArray upgradeRequest(const QByteArray &extraHeaders = QByteArray(),
                                     const QByteArray &version = "13",
                                     const QByteArray &key = "dGhlIHNhbXBsZSBub25jZQ==")
    {
        return "GET /socket/websocket?vsn=2.0.0 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: "
            + version + "\r\nSec-WebSocket-Key: " + key + "\r\n" + extraHeaders + "\r\n";
    }

    // Reads until the response head is complete; returns it.
    QByteArray readResponseHead()
    {
        if (!QTest::qWaitFor([this] { return bufferContains("\r\n\r\n"); }, 5000)) {
            return QByteArray();
        }
        const qsizetype end = m_buffer.indexOf("\r\n\r\n") + 4;
        const QByteArray head = m_buffer.left(end);
        m_buffer.remove(0, end);
        return head;
    }

    static QByteArray frame(int opcode, const QByteArray &payload, bool fin = true,
                            bool masked = true, int rsv = 0)
    {
        QByteArray bytes;
        bytes.append(char((fin ? 0x80 : 0) | (rsv << 4) | opcode));
        const int maskBit = masked ? 0x80 : 0;
        if (payload.size() < 126) {
            bytes.append(char(maskBit | payload.size()));
        } else if (payload.size() <= 0xFFFF) {
            bytes.append(char(maskBit | 126));
            bytes.append(char(payload.size() >> 8));
            bytes.append(char(payload.size() & 0xFF));
        } else {
            bytes.append(char(maskBit | 127));
            for (int shift = 56; shift >= 0; shift -= 8) {
                bytes.append(char((quint64(payload.size()) >> shift) & 0xFF));
            }
        }
        const char mask[4] = {0x12, 0x34, 0x56, 0x78};
        if (masked) {
            bytes.append(mask, 4);
        }
        for (qsizetype i = 0; i < payload.size(); ++i) {
            bytes.append(masked ? char(payload.at(i) ^ mask[i % 4]) : payload.at(i));
        }
        return bytes;
    }

    struct Frame
    {
        int opcode = -1;
        bool fin = false;
        QByteArray payload;
    };

    // Reads one server frame; opcode -1 on time-out.
    Frame readFrame()
    {
        Frame result;
        qsizetype size = 0;
        const bool complete = QTest::qWaitFor(
            [&] {
                fill();
                size = frameSize();
                return size > 0;
            },
            5000);
        if (!complete) {
            return result;
        }
        const auto *data = reinterpret_cast<const unsigned char *>(m_buffer.constData());
        result.fin = data[0] & 0x80;
        result.opcode = data[0] & 0x0F;
        const qsizetype header = size - payloadLength();
        result.payload = m_buffer.mid(header, size - header);
        m_buffer.remove(0, size);
        return result;
    }

    bool waitForClose()
    {
        return QTest::qWaitFor(
            [this] {
                fill();
                return m_socket.state() == QAbstractSocket::UnconnectedState;
            },
            5000);
    }

    static int closeCodeOf(const Frame &frame)
    {
        return frame.payload.size() >= 2 ? (static_cast<unsigned char>(frame.payload.at(0)) << 8)
                | static_cast<unsigned char>(frame.payload.at(1))
                                         : -1;
    }

private:
    void fill() { m_buffer += m_socket.readAll(); }
    bool bufferContains(const char *text)
    {
        fill();
        return m_buffer.contains(text);
    }
    qsizetype payloadLength() const
    {
        const auto *data = reinterpret_cast<const unsigned char *>(m_buffer.constData());
        const int length = data[1] & 0x7F;
        if (length == 126) {
            return (data[2] << 8) | data[3];
        }
        return length;
    }
    // Total size of the first frame in the buffer, or 0 while it is incomplete.
    qsizetype frameSize() const
    {
        if (m_buffer.size() < 2) {
            return 0;
        }
        const auto *data = reinterpret_cast<const unsigned char *>(m_buffer.constData());
        const int length = data[1] & 0x7F;
        const qsizetype header = length == 126 ? 4 : 2;
        if (m_buffer.size() < header) {
            return 0;
        }
        const qsizetype total = header + payloadLength();
        return m_buffer.size() >= total ? total : 0;
    }

    QTcpSocket m_socket;
    QByteArray m_buffer;
};

const QByteArray heartbeat = R"([null,"1","phoenix","heartbeat",{}])";
const QByteArray heartbeatReply
    = R"([null,"1","phoenix","phx_reply",{"response":{},"status":"ok"}])";

} // namespace

// The server's own WebSocket framing (RFC 6455, server side) on plain connections, byte by byte.
class tst_WebSocketFraming : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void handshakeAccept();
    void handshakeWrongVersion();
    void handshakeInvalidKey();
    void frameAfterHandshakeInSameSegment();
    void frameSplitByteByByte();
    void fragmentedMessage();
    void pingAnsweredWithPong();
    void clientCloseEchoed();
    void protocolErrors_data();
    void protocolErrors();
    void invalidUtf8Closes1007();
    void oversizedLengthClosesBeforePayload();
    void extendedLengthFrame();

private:
    void upgrade(RawClient &client);

    std::unique_ptr<Server> m_server;
};

void tst_WebSocketFraming::init()
{
    ServerConfig config;
    config.port = 0;
    m_server = std::make_unique<Server>(config);
    QVERIFY(m_server->listen());
}

void tst_WebSocketFraming::cleanup()
{
    m_server.reset();
}

void tst_WebSocketFraming::upgrade(RawClient &client)
{
    QVERIFY(client.connectTo(m_server->serverPort()));
    client.write(RawClient::upgradeRequest());
    QVERIFY(client.readResponseHead().startsWith("HTTP/1.1 101 Switching Protocols\r\n"));
}

void tst_WebSocketFraming::handshakeAccept()
{
    RawClient client;
    QVERIFY(client.connectTo(m_server->serverPort()));
    client.write(RawClient::upgradeRequest("Sec-WebSocket-Protocol: chat, phoenix\r\n"));
    const QByteArray head = client.readResponseHead();
    QVERIFY2(head.startsWith("HTTP/1.1 101 Switching Protocols\r\n"), head.constData());
    // The example key and accept value of RFC 6455, section 1.3.
    QVERIFY(head.contains("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
    QVERIFY(head.contains("\r\nSec-WebSocket-Protocol: phoenix\r\n"));
    QVERIFY(head.contains("\r\nUpgrade: websocket\r\n"));
}

void tst_WebSocketFraming::handshakeWrongVersion()
{
    RawClient client;
    QVERIFY(client.connectTo(m_server->serverPort()));
    client.write(RawClient::upgradeRequest(QByteArray(), "8"));
    const QByteArray head = client.readResponseHead();
    QVERIFY2(head.startsWith("HTTP/1.1 426 Upgrade Required\r\n"), head.constData());
    QVERIFY(head.contains("\r\nSec-WebSocket-Version: 13\r\n"));
    QVERIFY(client.waitForClose());
}

void tst_WebSocketFraming::handshakeInvalidKey()
{
    RawClient client;
    QVERIFY(client.connectTo(m_server->serverPort()));
    client.write(RawClient::upgradeRequest(QByteArray(), "13", "c2hvcnQ="));
    QVERIFY(client.readResponseHead().startsWith("HTTP/1.1 400 Bad Request\r\n"));
    QVERIFY(client.waitForClose());
}

void tst_WebSocketFraming::frameAfterHandshakeInSameSegment()
{
    RawClient client;
    QVERIFY(client.connectTo(m_server->serverPort()));
    client.write(RawClient::upgradeRequest() + RawClient::frame(0x1, heartbeat));
    QVERIFY(client.readResponseHead().startsWith("HTTP/1.1 101"));
    const RawClient::Frame reply = client.readFrame();
    QCOMPARE(reply.opcode, 0x1);
    QVERIFY(reply.fin);
    QCOMPARE(reply.payload, heartbeatReply);
}

void tst_WebSocketFraming::frameSplitByteByByte()
{
    RawClient client;
    upgrade(client);
    const QByteArray bytes = RawClient::frame(0x1, heartbeat);
    for (char byte : bytes) {
        client.write(QByteArray(1, byte));
        QTest::qWait(1); // one TCP segment per byte
    }
    QCOMPARE(client.readFrame().payload, heartbeatReply);
}

void tst_WebSocketFraming::fragmentedMessage()
{
    RawClient client;
    upgrade(client);
    client.write(RawClient::frame(0x1, heartbeat.left(10), false)
                 + RawClient::frame(0x9, "in between") // a control frame between fragments
                 + RawClient::frame(0x0, heartbeat.mid(10, 10), false)
                 + RawClient::frame(0x0, heartbeat.mid(20), true));
    const RawClient::Frame pong = client.readFrame();
    QCOMPARE(pong.opcode, 0xA);
    QCOMPARE(pong.payload, QByteArray("in between"));
    QCOMPARE(client.readFrame().payload, heartbeatReply);
}

void tst_WebSocketFraming::pingAnsweredWithPong()
{
    RawClient client;
    upgrade(client);
    client.write(RawClient::frame(0x9, "12345"));
    const RawClient::Frame pong = client.readFrame();
    QCOMPARE(pong.opcode, 0xA);
    QVERIFY(pong.fin);
    QCOMPARE(pong.payload, QByteArray("12345"));
}

void tst_WebSocketFraming::clientCloseEchoed()
{
    RawClient client;
    upgrade(client);
    client.write(RawClient::frame(0x8,
                                  QByteArray("\x03\xe8"
                                             "bye",
                                             5)));
    const RawClient::Frame close = client.readFrame();
    QCOMPARE(close.opcode, 0x8);
    QCOMPARE(RawClient::closeCodeOf(close), 1000);
    QVERIFY(client.waitForClose());
    QTRY_COMPARE(m_server->metrics().closesByCode.value(1000), quint64(1));
}

void tst_WebSocketFraming::protocolErrors_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<int>("closeCode");

    QTest::newRow("unmasked") << RawClient::frame(0x1, heartbeat, true, false) << 1002;
    QTest::newRow("reserved bits") << RawClient::frame(0x1, heartbeat, true, true, 4) << 1002;
    QTest::newRow("unknown opcode") << RawClient::frame(0x3, "x") << 1002;
    QTest::newRow("unknown control opcode") << RawClient::frame(0xB, "x") << 1002;
    QTest::newRow("continuation first") << RawClient::frame(0x0, heartbeat) << 1002;
    QTest::newRow("fragmented ping") << RawClient::frame(0x9, "x", false) << 1002;
    QTest::newRow("long ping") << RawClient::frame(0x9, QByteArray(126, 'x')) << 1002;
    QTest::newRow("text inside fragments")
        << RawClient::frame(0x1, "[", false) + RawClient::frame(0x1, "]") << 1002;
    QTest::newRow("binary") << RawClient::frame(0x2, heartbeat) << 1003;
    QTest::newRow("close of one byte") << RawClient::frame(0x8, QByteArray(1, 0x03)) << 1002;
    // 1005 means "no code" and must never be sent, so it is not echoed.
    QTest::newRow("close 1005") << RawClient::frame(0x8, QByteArray("\x03\xed", 2)) << 1002;
}

void tst_WebSocketFraming::protocolErrors()
{
    QFETCH(QByteArray, bytes);
    QFETCH(int, closeCode);
    RawClient client;
    upgrade(client);
    client.write(bytes);
    const RawClient::Frame close = client.readFrame();
    QCOMPARE(close.opcode, 0x8);
    QCOMPARE(RawClient::closeCodeOf(close), closeCode);
}

void tst_WebSocketFraming::invalidUtf8Closes1007()
{
    RawClient client;
    upgrade(client);
    client.write(RawClient::frame(0x1, QByteArray("[\"\xc3\x28\"]")));
    const RawClient::Frame close = client.readFrame();
    QCOMPARE(close.opcode, 0x8);
    QCOMPARE(RawClient::closeCodeOf(close), 1007);
    QVERIFY(client.waitForClose());
}

void tst_WebSocketFraming::oversizedLengthClosesBeforePayload()
{
    RawClient client;
    upgrade(client);
    // A header announcing 1 GiB: the server closes without waiting for the payload.
    QByteArray header("\x81\xff", 2);
    for (int shift = 56; shift >= 0; shift -= 8) {
        header.append(char((quint64(1) << 30 >> shift) & 0xFF));
    }
    header.append("\x01\x02\x03\x04", 4);
    client.write(header);
    const RawClient::Frame close = client.readFrame();
    QCOMPARE(close.opcode, 0x8);
    QCOMPARE(RawClient::closeCodeOf(close), 1009);
}

void tst_WebSocketFraming::extendedLengthFrame()
{
    RawClient client;
    upgrade(client);
    const QByteArray padded
        = R"([null,"1","phoenix","heartbeat",{"pad":")" + QByteArray(300, 'p') + R"("}])";
    client.write(RawClient::frame(0x1, padded));
    QCOMPARE(client.readFrame().payload, heartbeatReply);
}

QTEST_GUILESS_MAIN(tst_WebSocketFraming)
#include "tst_websocketframing.moc"
