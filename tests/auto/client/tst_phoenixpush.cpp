#include "omwserverprocess.h"
#include "phoenixchannel.h"
#include "phoenixpush.h"
#include "phoenixsocket.h"

#include <QPointer>
#include <QSignalSpy>
#include <QTest>

using Omw::Phoenix::Channel;
using Omw::Phoenix::Push;
using Omw::Phoenix::Socket;

class TestPhoenixPush : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void replyCarriesStatusAndResponse();
    void unknownEventGetsErrorReply();
    void timesOutWhenServerFrozen();
    void lateReplyAfterTimeoutIgnored();
    void failsWhileDisconnected();
    void queuedUntilRejoined();
    void inFlightPushFailsOnDisconnect();
    void pushBeforeJoinFails();
    void deletesItselfAfterReply();

private:
    // A socket with a joined onboarding channel.
    bool connectOnboarding(Socket *socket, Channel **channel);

    std::unique_ptr<OmwServerProcess> m_server;
};

void TestPhoenixPush::initTestCase()
{
    if (!QFile::exists(OmwServerProcess::binaryPath()))
        QSKIP("omw-server is not built; build the omw-server target first");
}

void TestPhoenixPush::init()
{
    m_server = std::make_unique<OmwServerProcess>();
    QVERIFY2(m_server->start(), qPrintable(m_server->errorString()));
}

void TestPhoenixPush::cleanup()
{
    m_server.reset();
}

bool TestPhoenixPush::connectOnboarding(Socket *socket, Channel **channel)
{
    *channel = socket->channel(QStringLiteral("onboarding"));
    QSignalSpy joined(*channel, &Channel::joined);
    (*channel)->join();
    socket->connectToServer();
    return joined.wait(5000);
}

void TestPhoenixPush::replyCarriesStatusAndResponse()
{
    Socket socket(m_server->socketUrl());
    Channel *channel = nullptr;
    QVERIFY(connectOnboarding(&socket, &channel));
    Push *push = channel->push(QStringLiteral("GENERATE_NEW_SESSION_NAME"));
    push->setAutoDelete(false);
    QCOMPARE(push->state(), Push::State::Sent);
    QVERIFY(!push->ref().isEmpty());
    QSignalSpy replied(push, &Push::replied);
    QSignalSpy timedOut(push, &Push::timedOut);
    QSignalSpy failed(push, &Push::failed);
    QVERIFY(replied.wait(5000));
    QCOMPARE(replied.count(), 1);
    QCOMPARE(replied.at(0).at(0).toString(), QStringLiteral("ok"));
    // The original API's bare-string reply: the mnemonic itself.
    QVERIFY(replied.at(0).at(1).toJsonValue().isString());
    QCOMPARE(push->status(), QStringLiteral("ok"));
    QCOMPARE(push->response(), replied.at(0).at(1).toJsonValue());
    QCOMPARE(push->state(), Push::State::Replied);
    QCOMPARE(timedOut.count(), 0);
    QCOMPARE(failed.count(), 0);
    delete push;
}

void TestPhoenixPush::unknownEventGetsErrorReply()
{
    Socket socket(m_server->socketUrl());
    Channel *channel = nullptr;
    QVERIFY(connectOnboarding(&socket, &channel));
    Push *push = channel->push(QStringLiteral("NO_SUCH_EVENT"), {{QStringLiteral("x"), 1}});
    QSignalSpy replied(push, &Push::replied);
    QVERIFY(replied.wait(5000));
    QCOMPARE(replied.at(0).at(0).toString(), QStringLiteral("error"));
    QCOMPARE(replied.at(0).at(1).toJsonValue().toObject().value(QLatin1String("reason")),
             QJsonValue(QStringLiteral("unknown_event")));
    QCOMPARE(channel->state(), Channel::State::Joined);
}

void TestPhoenixPush::timesOutWhenServerFrozen()
{
    Socket socket(m_server->socketUrl());
    Channel *channel = nullptr;
    QVERIFY(connectOnboarding(&socket, &channel));
    m_server->suspend();
    Push *push = channel->push(QStringLiteral("CREATE_SESSION"), {}, 300);
    push->setAutoDelete(false);
    QCOMPARE(push->timeout(), 300);
    QSignalSpy timedOut(push, &Push::timedOut);
    QSignalSpy replied(push, &Push::replied);
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("timed out after 300")));
    QVERIFY(timedOut.wait(5000));
    QCOMPARE(timedOut.count(), 1);
    QCOMPARE(replied.count(), 0);
    QCOMPARE(push->state(), Push::State::TimedOut);
    QCOMPARE(channel->activeTimerCount(), 0);
    m_server->resume();
    delete push;
}

void TestPhoenixPush::lateReplyAfterTimeoutIgnored()
{
    Socket socket(m_server->socketUrl());
    Channel *channel = nullptr;
    QVERIFY(connectOnboarding(&socket, &channel));
    m_server->suspend();
    Push *push = channel->push(QStringLiteral("GENERATE_NEW_SESSION_NAME"), {}, 200);
    push->setAutoDelete(false);
    QSignalSpy timedOut(push, &Push::timedOut);
    QSignalSpy replied(push, &Push::replied);
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("timed out after 200")));
    QVERIFY(timedOut.wait(5000));

    // The server wakes up and sends the reply; it reaches the socket but not the push.
    int replyFrames = 0;
    connect(&socket, &Socket::messageReceived, this,
            [&replyFrames, ref = push->ref()](const Omw::Phoenix::Message &message) {
                if (message.ref == QJsonValue(ref))
                    ++replyFrames;
            });
    m_server->resume();
    QTRY_COMPARE_WITH_TIMEOUT(replyFrames, 1, 5000);
    QCOMPARE(replied.count(), 0);
    QCOMPARE(push->state(), Push::State::TimedOut);
    delete push;
}

void TestPhoenixPush::failsWhileDisconnected()
{
    Socket socket(m_server->socketUrl());
    socket.setReconnectBaseDelay(5000);
    Channel *channel = nullptr;
    QVERIFY(connectOnboarding(&socket, &channel));
    m_server->stop();
    QTRY_COMPARE_WITH_TIMEOUT(channel->state(), Channel::State::Errored, 5000);

    Push *push = channel->push(QStringLiteral("CREATE_SESSION"), {}, 1000,
                               Channel::QueueMode::FailUnlessJoined);
    QSignalSpy failed(push, &Push::failed);
    QCOMPARE(failed.count(), 0);
    QVERIFY(failed.wait(1000));
    QCOMPARE(failed.count(), 1);
    QCOMPARE(failed.at(0).at(0).value<Push::Error>(), Push::Error::NotJoined);
    QVERIFY2(push->errorString().contains(QLatin1String("disconnected")),
             qPrintable(push->errorString()));
}

void TestPhoenixPush::queuedUntilRejoined()
{
    Socket socket(m_server->socketUrl());
    socket.setReconnectBaseDelay(100);
    socket.setReconnectMaxDelay(300);
    Channel *channel = nullptr;
    QVERIFY(connectOnboarding(&socket, &channel));
    const quint16 port = m_server->port();
    m_server->stop();
    QTRY_COMPARE_WITH_TIMEOUT(channel->state(), Channel::State::Errored, 5000);

    Push *push = channel->push(QStringLiteral("CREATE_SESSION"), {}, 2000,
                               Channel::QueueMode::QueueUntilJoined);
    push->setAutoDelete(false);
    QCOMPARE(push->state(), Push::State::Queued);
    QVERIFY(push->ref().isEmpty());
    QSignalSpy replied(push, &Push::replied);
    QSignalSpy failed(push, &Push::failed);
    // While queued the push runs no timer, however long the outage lasts.
    QCOMPARE(channel->activeTimerCount(), 0);

    QVERIFY2(m_server->start(port), qPrintable(m_server->errorString()));
    QVERIFY(replied.wait(10000));
    QCOMPARE(replied.at(0).at(0).toString(), QStringLiteral("ok"));
    QCOMPARE(failed.count(), 0);
    QVERIFY(!push->ref().isEmpty());
    delete push;
}

void TestPhoenixPush::inFlightPushFailsOnDisconnect()
{
    Socket socket(m_server->socketUrl());
    Channel *channel = nullptr;
    QVERIFY(connectOnboarding(&socket, &channel));
    m_server->suspend();
    Push *push = channel->push(QStringLiteral("CREATE_SESSION"), {}, 60'000);
    QSignalSpy failed(push, &Push::failed);
    socket.disconnectFromServer();
    QCOMPARE(failed.count(), 1);
    QCOMPARE(failed.at(0).at(0).value<Push::Error>(), Push::Error::ConnectionLost);
    QCOMPARE(socket.activeTimerCount(), 0);
    m_server->resume();
}

void TestPhoenixPush::pushBeforeJoinFails()
{
    Socket socket(m_server->socketUrl());
    Channel *channel = socket.channel(QStringLiteral("onboarding"));
    Push *push = channel->push(QStringLiteral("CREATE_SESSION"));
    QSignalSpy failed(push, &Push::failed);
    QVERIFY(failed.wait(1000));
    QCOMPARE(failed.at(0).at(0).value<Push::Error>(), Push::Error::NotJoined);
    QVERIFY2(push->errorString().contains(QLatin1String("not joined")),
             qPrintable(push->errorString()));
}

void TestPhoenixPush::deletesItselfAfterReply()
{
    Socket socket(m_server->socketUrl());
    Channel *channel = nullptr;
    QVERIFY(connectOnboarding(&socket, &channel));
    QPointer<Push> push = channel->push(QStringLiteral("CREATE_SESSION"));
    QVERIFY(push->autoDelete());
    QSignalSpy replied(push.data(), &Push::replied);
    QVERIFY(replied.wait(5000));
    QTRY_VERIFY_WITH_TIMEOUT(push.isNull(), 2000);
}

QTEST_GUILESS_MAIN(TestPhoenixPush)
#include "tst_phoenixpush.moc"
