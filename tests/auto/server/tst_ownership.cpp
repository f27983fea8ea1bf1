#include "server.h"
#include "sessionmanager.h"
#include "testclient.h"

#include <QElapsedTimer>
#include <QRegularExpression>

#include <memory>

using Omw::Server;
using Omw::ServerConfig;
using Omw::Session;
using Omw::SessionManager;

// Who may publish to a ride: tokens from CREATE_SESSION, first claim of rides of the original
// clients, reservations of generated names, and the server options that tighten them.
class tst_Ownership : public QObject
{
    Q_OBJECT

private slots:
    void cleanup();

    void createSessionReturnsToken();
    void joinWithToken();
    void joinWithoutRightToken_data();
    void joinWithoutRightToken();
    void tokenMustBeString();
    void sessionInUseWhileRiderConnected();
    void reclaimAfterDrop();
    void tokenIgnoredForTokenlessRide();
    void generatedNameClaimedByFirstRider();
    void requireToken();
    void mnemonicWords();
    void reservationExpires();
    void tokenHolderTakesOver();
    void adoptUnknownRideWithToken();
    void endedRideKeepsToken();

private:
    void startServer(ServerConfig config = ServerConfig());
    std::unique_ptr<TestClient> connectClient();
    // Sends CREATE_SESSION on a fresh onboarding channel and returns {slug, token}.
    std::pair<QString, QString> createSession();

    std::unique_ptr<Server> m_server;
};

void tst_Ownership::cleanup()
{
    m_server.reset();
}

void tst_Ownership::startServer(ServerConfig config)
{
    config.port = 0;
    m_server = std::make_unique<Server>(config);
    QVERIFY2(m_server->listen(), qPrintable(m_server->errorString()));
}

std::unique_ptr<TestClient> tst_Ownership::connectClient()
{
    auto client = std::make_unique<TestClient>();
    if (!client->open(m_server->serverPort())) {
        qWarning() << "cannot connect to the server on port" << m_server->serverPort();
    }
    return client;
}

std::pair<QString, QString> tst_Ownership::createSession()
{
    auto client = connectClient();
    client->join(QStringLiteral("onboarding"), QStringLiteral("1"));
    client->send("1", "2", QStringLiteral("onboarding"), QStringLiteral("CREATE_SESSION"));
    const QJsonObject response = client->next()[4][QStringLiteral("response")].toObject();
    return {response.value(QStringLiteral("slug")).toString(),
            response.value(QStringLiteral("token")).toString()};
}

static QJsonObject okJoin(const QString &slug, const QString &state)
{
    return QJsonObject {{"status", "ok"},
                        {"response", QJsonObject {{"slug", slug}, {"state", state}}}};
}

static QJsonObject errorJoin(const QString &reason, const QString &message)
{
    return QJsonObject {{"status", "error"},
                        {"response", QJsonObject {{"reason", reason}, {"message", message}}}};
}

static QString unauthorizedMessage(const QString &slug)
{
    return QStringLiteral("ride %1 belongs to the holder of its token: join with the params "
                          "{\"token\": ...} that CREATE_SESSION returned")
        .arg(slug);
}

void tst_Ownership::createSessionReturnsToken()
{
    startServer();
    auto client = connectClient();
    client->join(QStringLiteral("onboarding"), QStringLiteral("1"));
    client->send("1", "2", QStringLiteral("onboarding"), QStringLiteral("CREATE_SESSION"));
    const QJsonArray reply = client->next().toArray();
    QCOMPARE(reply.size(), 5);
    QCOMPARE(reply.at(0), QJsonValue("1"));
    QCOMPARE(reply.at(1), QJsonValue("2"));
    QCOMPARE(reply.at(2), QJsonValue("onboarding"));
    QCOMPARE(reply.at(3), QJsonValue("phx_reply"));
    QCOMPARE(reply.at(4)[QStringLiteral("status")], QJsonValue("ok"));
    const QJsonObject response = reply.at(4)[QStringLiteral("response")].toObject();
    QCOMPARE(response.keys(), QStringList({"slug", "token"}));

    const QStringList words = response.value(QStringLiteral("slug")).toString().split('-');
    QCOMPARE(words.size(), 2);
    QVERIFY(m_server->sessions()->dictionary().words().contains(words.at(0)));
    QVERIFY(m_server->sessions()->dictionary().words().contains(words.at(1)));
    // 128 bits in unpadded base64url are 22 characters.
    const QString token = response.value(QStringLiteral("token")).toString();
    QVERIFY2(QRegularExpression(QStringLiteral("^[A-Za-z0-9_-]{22}$")).match(token).hasMatch(),
             qPrintable(token));

    client->send("1", "3", QStringLiteral("onboarding"), QStringLiteral("CREATE_SESSION"));
    const QJsonObject second = client->next()[4][QStringLiteral("response")].toObject();
    QVERIFY(second.value(QStringLiteral("slug")) != response.value(QStringLiteral("slug")));
    QVERIFY(second.value(QStringLiteral("token")) != response.value(QStringLiteral("token")));
    QCOMPARE(m_server->sessions()->reservationCount(), 2);
    QCOMPARE(m_server->sessions()->sessionCount(), 0);
}

void tst_Ownership::joinWithToken()
{
    startServer();
    QSignalSpy created(m_server->sessions(), &SessionManager::sessionCreated);
    const auto [slug, token] = createSession();
    auto rider = connectClient();
    QCOMPARE(rider->join(QStringLiteral("tracking:") + slug, QStringLiteral("1"),
                         QJsonObject {{"token", token}}),
             okJoin(slug, "waiting"));
    QCOMPARE(created.count(), 1);
    QVERIFY(created.at(0).at(0).value<Session *>()->hasToken());
    QCOMPARE(m_server->sessions()->reservationCount(), 0);
}

void tst_Ownership::joinWithoutRightToken_data()
{
    QTest::addColumn<QJsonObject>("params");
    QTest::addColumn<QString>("stage"); // reserved, live or offline

    const QList<std::pair<const char *, QJsonObject>> params {
        {"no token", QJsonObject()},
        {"null token", QJsonObject {{"token", QJsonValue::Null}}},
        {"empty token", QJsonObject {{"token", ""}}},
        {"wrong token", QJsonObject {{"token", "AAAAAAAAAAAAAAAAAAAAAA"}}},
    };
    for (const QString stage : {"reserved", "live", "offline"}) {
        for (const auto &[name, value] : params) {
            QTest::addRow("%s, %s", qPrintable(stage), name) << value << stage;
        }
    }
}

void tst_Ownership::joinWithoutRightToken()
{
    QFETCH(QJsonObject, params);
    QFETCH(QString, stage);

    startServer();
    const auto [slug, token] = createSession();
    const QString topic = QStringLiteral("tracking:") + slug;
    auto owner = connectClient();
    if (stage != QLatin1String("reserved")) {
        QCOMPARE(owner->join(topic, QStringLiteral("1"), QJsonObject {{"token", token}}),
                 okJoin(slug, "waiting"));
    }
    if (stage == QLatin1String("offline")) {
        owner->socket().abort();
        QTRY_COMPARE(m_server->sessions()->sessionCount(Session::State::Offline), 1);
    }
    auto intruder = connectClient();
    QCOMPARE(intruder->join(topic, QStringLiteral("1"), params),
             errorJoin("unauthorized", unauthorizedMessage(slug)));
    QCOMPARE(m_server->sessions()->sessionCount(), stage == QLatin1String("reserved") ? 0 : 1);
}

void tst_Ownership::tokenMustBeString()
{
    startServer();
    auto rider = connectClient();
    QCOMPARE(rider->join(QStringLiteral("tracking:brave-otter"), QStringLiteral("1"),
                         QJsonObject {{"token", 42}}),
             errorJoin("invalid_payload", "token must be a string"));
    QCOMPARE(m_server->sessions()->sessionCount(), 0);
}

void tst_Ownership::sessionInUseWhileRiderConnected()
{
    startServer();
    auto rider = connectClient();
    auto other = connectClient();
    QCOMPARE(rider->join(QStringLiteral("tracking:brave-otter"), QStringLiteral("1")),
             okJoin("brave-otter", "waiting"));
    QCOMPARE(other->join(QStringLiteral("tracking:brave-otter"), QStringLiteral("1")),
             errorJoin("session_in_use", "ride brave-otter already has a connected rider"));
    // The first rider keeps publishing.
    rider->send("1", "2", QStringLiteral("tracking:brave-otter"), QStringLiteral("NEW_COORDS"),
                json(R"({"latitude":48.2,"longitude":8.4})"));
    QCOMPARE(rider->next()[4][QStringLiteral("status")], QJsonValue("ok"));
    QCOMPARE(m_server->sessions()->session(QStringLiteral("brave-otter"))->state(),
             Session::State::Live);
}

void tst_Ownership::reclaimAfterDrop()
{
    startServer();
    QSignalSpy created(m_server->sessions(), &SessionManager::sessionCreated);
    auto follower = connectClient();
    follower->join(QStringLiteral("following:brave-otter"), QStringLiteral("1"));
    auto rider = connectClient();
    rider->join(QStringLiteral("tracking:brave-otter"), QStringLiteral("1"));
    rider->socket().abort();
    QCOMPARE(follower->next()[3], QJsonValue("RIDER_OFFLINE"));

    auto other = connectClient();
    QCOMPARE(other->join(QStringLiteral("tracking:brave-otter"), QStringLiteral("1")),
             okJoin("brave-otter", "waiting"));
    QCOMPARE(follower->next(), json(R"([null,null,"following:brave-otter","RIDER_ONLINE",{}])"));
    QCOMPARE(created.count(), 1);
    // The ride belongs to the new rider now, so a third socket is turned away.
    auto third = connectClient();
    QCOMPARE(third->join(QStringLiteral("tracking:brave-otter"), QStringLiteral("1")),
             errorJoin("session_in_use", "ride brave-otter already has a connected rider"));
}

void tst_Ownership::tokenIgnoredForTokenlessRide()
{
    // A ride created without a token never acquires one: a later token is not checked.
    startServer();
    auto rider = connectClient();
    rider->join(QStringLiteral("tracking:brave-otter"), QStringLiteral("1"));
    auto other = connectClient();
    QCOMPARE(other->join(QStringLiteral("tracking:brave-otter"), QStringLiteral("1"),
                         QJsonObject {{"token", "AAAAAAAAAAAAAAAAAAAAAA"}}),
             errorJoin("session_in_use", "ride brave-otter already has a connected rider"));
    rider->socket().abort();
    QTRY_COMPARE(m_server->sessions()->sessionCount(Session::State::Offline), 1);
    QCOMPARE(other->join(QStringLiteral("tracking:brave-otter"), QStringLiteral("2"),
                         QJsonObject {{"token", "AAAAAAAAAAAAAAAAAAAAAA"}}),
             okJoin("brave-otter", "waiting"));
    QVERIFY(!m_server->sessions()->session(QStringLiteral("brave-otter"))->hasToken());
}

void tst_Ownership::generatedNameClaimedByFirstRider()
{
    startServer();
    auto client = connectClient();
    client->join(QStringLiteral("onboarding"), QStringLiteral("1"));
    client->send("1", "2", QStringLiteral("onboarding"),
                 QStringLiteral("GENERATE_NEW_SESSION_NAME"));
    const QString slug = client->next()[4][QStringLiteral("response")].toString();
    QCOMPARE(m_server->sessions()->reservationCount(), 1);
    auto rider = connectClient();
    QCOMPARE(rider->join(QStringLiteral("tracking:") + slug, QStringLiteral("1")),
             okJoin(slug, "waiting"));
    QCOMPARE(m_server->sessions()->reservationCount(), 0);
    QVERIFY(!m_server->sessions()->session(slug)->hasToken());
}

void tst_Ownership::requireToken()
{
    ServerConfig config;
    config.requireToken = true;
    startServer(config);
    const QString message = QStringLiteral(
        "this server requires ride tokens: create the ride with CREATE_SESSION on onboarding");
    auto rider = connectClient();
    QCOMPARE(rider->join(QStringLiteral("tracking:brave-otter"), QStringLiteral("1")),
             errorJoin("unauthorized", message));

    // A generated name is not enough either.
    auto onboarding = connectClient();
    onboarding->join(QStringLiteral("onboarding"), QStringLiteral("1"));
    onboarding->send("1", "2", QStringLiteral("onboarding"),
                     QStringLiteral("GENERATE_NEW_SESSION_NAME"));
    const QString generated = onboarding->next()[4][QStringLiteral("response")].toString();
    QCOMPARE(rider->join(QStringLiteral("tracking:") + generated, QStringLiteral("2")),
             errorJoin("unauthorized", message));
    QCOMPARE(m_server->sessions()->sessionCount(), 0);

    const auto [slug, token] = createSession();
    QCOMPARE(rider->join(QStringLiteral("tracking:") + slug, QStringLiteral("3"),
                         QJsonObject {{"token", token}}),
             okJoin(slug, "waiting"));
    QCOMPARE(m_server->sessions()->sessionCount(), 1);
}

void tst_Ownership::mnemonicWords()
{
    ServerConfig config;
    config.mnemonicWords = 3;
    startServer(config);
    const QStringList &dictionary = m_server->sessions()->dictionary().words();
    auto client = connectClient();
    client->join(QStringLiteral("onboarding"), QStringLiteral("1"));
    client->send("1", "2", QStringLiteral("onboarding"),
                 QStringLiteral("GENERATE_NEW_SESSION_NAME"));
    const QString generated = client->next()[4][QStringLiteral("response")].toString();
    client->send("1", "3", QStringLiteral("onboarding"), QStringLiteral("CREATE_SESSION"));
    const QString created
        = client->next()[4][QStringLiteral("response")][QStringLiteral("slug")].toString();
    for (const QString &name : {generated, created}) {
        const QStringList words = name.split('-');
        QCOMPARE(words.size(), 3);
        QCOMPARE(QSet<QString>(words.cbegin(), words.cend()).size(), 3);
        for (const QString &word : words) {
            QVERIFY2(dictionary.contains(word), qPrintable(word));
        }
    }
}

void tst_Ownership::reservationExpires()
{
    ServerConfig config;
    config.reservationTimeout = 200;
    startServer(config);
    QElapsedTimer timer;
    timer.start();
    const auto [slug, token] = createSession();
    QCOMPARE(m_server->sessions()->reservationCount(), 1);
    auto rider = connectClient();
    QCOMPARE(rider->join(QStringLiteral("tracking:") + slug, QStringLiteral("1")),
             errorJoin("unauthorized", unauthorizedMessage(slug)));

    // The manager sweeps reservations once a second.
    QTRY_COMPARE_WITH_TIMEOUT(m_server->sessions()->reservationCount(), 0, 3000);
    QVERIFY(timer.elapsed() >= config.reservationTimeout);
    // Unclaimed, the name is free: the token no longer guards it.
    QCOMPARE(rider->join(QStringLiteral("tracking:") + slug, QStringLiteral("2")),
             okJoin(slug, "waiting"));
    QVERIFY(!m_server->sessions()->session(slug)->hasToken());
}

void tst_Ownership::tokenHolderTakesOver()
{
    startServer();
    const auto [slug, token] = createSession();
    const QString topic = QStringLiteral("tracking:") + slug;
    auto follower = connectClient();
    follower->join(QStringLiteral("following:") + slug, QStringLiteral("1"));
    auto old = connectClient();
    old->join(topic, QStringLiteral("1"), QJsonObject {{"token", token}});
    old->send("1", "2", topic, QStringLiteral("NEW_COORDS"),
              json(R"({"latitude":48.2,"longitude":8.4})"));
    QCOMPARE(old->next()[4][QStringLiteral("status")], QJsonValue("ok"));
    QCOMPARE(follower->next()[4][QStringLiteral("latitude")], QJsonValue(48.2));

    auto fresh = connectClient();
    QCOMPARE(fresh->join(topic, QStringLiteral("7"), QJsonObject {{"token", token}}),
             okJoin(slug, "live"));
    QCOMPARE(old->next(), QJsonValue(QJsonArray {"1", "1", topic, "phx_close", QJsonObject()}));
    // The old connection's channel is gone; its socket stays open.
    old->send("1", "3", topic, QStringLiteral("NEW_COORDS"),
              json(R"({"latitude":48.9,"longitude":8.4})"));
    QCOMPARE(old->next(),
             QJsonValue(QJsonArray {
                 QJsonValue::Null, "3", topic, "phx_reply",
                 json(R"({"status":"error","response":{"reason":"unmatched topic"}})")}));
    // When the old connection drops, the ride does not go offline: it is not the rider anymore.
    old->socket().abort();
    QTRY_COMPARE(m_server->connectionCount(), 2);
    fresh->send("7", "8", topic, QStringLiteral("NEW_COORDS"),
                json(R"({"latitude":48.3,"longitude":8.4})"));
    QCOMPARE(fresh->next()[4][QStringLiteral("status")], QJsonValue("ok"));
    QCOMPARE(follower->next()[4][QStringLiteral("latitude")], QJsonValue(48.3));
    QCOMPARE(follower->unread(), 0);
    QCOMPARE(m_server->sessions()->session(slug)->state(), Session::State::Live);
}

void tst_Ownership::adoptUnknownRideWithToken()
{
    // After a restart the server has forgotten its rides; a rider that comes back with its
    // token adopts the name, and the token guards it from then on.
    startServer();
    const QJsonObject params {{"token", "remembered-token-from-before"}};
    auto rider = connectClient();
    QCOMPARE(rider->join(QStringLiteral("tracking:brave-otter"), QStringLiteral("1"), params),
             okJoin("brave-otter", "waiting"));
    QVERIFY(m_server->sessions()->session(QStringLiteral("brave-otter"))->hasToken());
    rider->socket().abort();
    QTRY_COMPARE(m_server->sessions()->sessionCount(Session::State::Offline), 1);

    auto other = connectClient();
    QCOMPARE(other->join(QStringLiteral("tracking:brave-otter"), QStringLiteral("1")),
             errorJoin("unauthorized", unauthorizedMessage("brave-otter")));
    QCOMPARE(other->join(QStringLiteral("tracking:brave-otter"), QStringLiteral("2"),
                         QJsonObject {{"token", "another-token"}}),
             errorJoin("unauthorized", unauthorizedMessage("brave-otter")));
    QCOMPARE(other->join(QStringLiteral("tracking:brave-otter"), QStringLiteral("3"), params),
             okJoin("brave-otter", "waiting"));
    QCOMPARE(m_server->sessions()->sessionCount(Session::State::Live), 1);
}

void tst_Ownership::endedRideKeepsToken()
{
    // An ended ride's name stays reserved with its token for the reservation timeout, so no
    // other client can start a ride under it while its followers are still watching.
    startServer();
    const auto [slug, token] = createSession();
    const QString topic = QStringLiteral("tracking:") + slug;
    auto rider = connectClient();
    rider->join(topic, QStringLiteral("1"), QJsonObject {{"token", token}});
    rider->send("1", "2", topic, QStringLiteral("phx_leave"));
    QCOMPARE(rider->next()[4][QStringLiteral("status")], QJsonValue("ok"));
    QCOMPARE(rider->next()[3], QJsonValue("phx_close"));
    QCOMPARE(m_server->sessions()->sessionCount(), 0);

    auto other = connectClient();
    QCOMPARE(other->join(topic, QStringLiteral("1")),
             errorJoin("unauthorized", unauthorizedMessage(slug)));
    QCOMPARE(rider->join(topic, QStringLiteral("3"), QJsonObject {{"token", token}}),
             okJoin(slug, "waiting"));
    QVERIFY(m_server->sessions()->session(slug)->hasToken());
}

QTEST_GUILESS_MAIN(tst_Ownership)
#include "tst_ownership.moc"
