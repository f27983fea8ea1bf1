#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTcpSocket>
#include <QTest>

#include <memory>
#include <vector>

// omw-server run out of file descriptors: it must neither spin on accept() nor leave clients
// hanging, and it must accept again once descriptors are free.
class tst_FileLimit : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanup();
    void outOfDescriptorsAnswers503();

private:
    QByteArray get(const QByteArray &path);

    QProcess m_server;
    quint16 m_port = 0;
};

void tst_FileLimit::initTestCase()
{
    if (QStandardPaths::findExecutable(QStringLiteral("prlimit")).isEmpty()) {
        QSKIP("prlimit (util-linux) is not installed");
    }
#ifdef OMW_SANITIZED_BUILD
    QSKIP("UBSan's pointer checks open /proc files, which fail while the server is out of "
          "descriptors, so a sanitized server reports false errors here");
#endif
}

void tst_FileLimit::cleanup()
{
    m_server.kill();
    m_server.waitForFinished(5000);
}

QByteArray tst_FileLimit::get(const QByteArray &path)
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, m_port);
    if (!socket.waitForConnected(5000)) {
        return QByteArray();
    }
    socket.write("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
    QByteArray response;
    [[maybe_unused]] const bool closed = QTest::qWaitFor(
        [&] {
            response += socket.readAll();
            return socket.state() == QAbstractSocket::UnconnectedState;
        },
        5000);
    return response + socket.readAll();
}

void tst_FileLimit::outOfDescriptorsAnswers503()
{
    // 40 descriptors: the server's own (standard streams, epoll, the listening socket, the
    // spare) leave room for about 30 clients.
    m_server.setProgram(QStringLiteral("prlimit"));
    m_server.setArguments({QStringLiteral("--nofile=40:40"),
                           QStringLiteral(OMW_BINARY_DIR "/server/omw-server"),
                           QStringLiteral("--port"), QStringLiteral("0"),
                           QStringLiteral("--max-connections"), QStringLiteral("1000")});
    m_server.setProcessChannelMode(QProcess::ForwardedOutputChannel);
    m_server.start();
    QVERIFY(m_server.waitForStarted(5000));
    const QRegularExpression listening(QStringLiteral("listening on ws://[^:]+:(\\d+)/socket"));
    QByteArray log;
    QVERIFY(QTest::qWaitFor(
        [&] {
            log += m_server.readAllStandardError();
            return listening.match(QString::fromUtf8(log)).hasMatch();
        },
        10000));
    m_port = quint16(listening.match(QString::fromUtf8(log)).captured(1).toUInt());

    // Idle TCP connections that never send a request use up the descriptors.
    std::vector<std::unique_ptr<QTcpSocket>> holders;
    for (int i = 0; i < 50; ++i) {
        auto socket = std::make_unique<QTcpSocket>();
        socket->connectToHost(QHostAddress::LocalHost, m_port);
        QVERIFY(socket->waitForConnected(5000));
        holders.push_back(std::move(socket));
    }
    // The server rejects at accept time, before reading a request; this client waits for the
    // answer before it sends anything, so that its request cannot race the server's close.
    QTcpSocket waiting;
    waiting.connectToHost(QHostAddress::LocalHost, m_port);
    QVERIFY(waiting.waitForConnected(5000));
    QByteArray rejected;
    QVERIFY(QTest::qWaitFor(
        [&] {
            rejected += waiting.readAll();
            return waiting.state() == QAbstractSocket::UnconnectedState;
        },
        10000));
    rejected += waiting.readAll();
    QVERIFY2(rejected.startsWith("HTTP/1.1 503 Service Unavailable\r\n"), rejected.constData());
    QVERIFY(rejected.endsWith(
        R"({"error":"the server is out of file descriptors; try again later","status":503})"
        "\n"));

    // Once the idle connections are gone, the server accepts again.
    holders.clear();
    QByteArray healthy;
    QVERIFY(QTest::qWaitFor(
        [&] {
            healthy = get("/metrics");
            return healthy.startsWith("HTTP/1.1 200 OK\r\n");
        },
        10000));
    const QRegularExpression acceptErrors(QStringLiteral("\nomw_accept_errors_total (\\d+)\n"));
    const QRegularExpressionMatch match = acceptErrors.match(QString::fromUtf8(healthy));
    QVERIFY(match.hasMatch());
    QVERIFY(match.captured(1).toInt() >= 1);
}

QTEST_GUILESS_MAIN(tst_FileLimit)
#include "tst_filelimit.moc"
