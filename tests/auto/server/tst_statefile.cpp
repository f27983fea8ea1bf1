#include "server.h"
#include "sessionmanager.h"
#include "testclient.h"

#include <QFile>
#include <QTemporaryDir>

#include <memory>

using Omw::Server;
using Omw::ServerConfig;

// Ride tokens across a server restart: with --state-file only a ride's own token takes it back;
// without one, the restarted server cannot tell its rider from anyone else.
class tst_StateFile : public QObject
{
    Q_OBJECT

private slots:
    void restartKeepsTokens();
    void restartWithoutStateFileForgetsTokens();
    void unreadableStateFileIsIgnored();

private:
    // Creates a ride with a token, joins it as its rider and returns {slug, token}.
    static std::pair<QString, QString> startRide(Server &server, TestClient &rider);
};

std::pair<QString, QString> tst_StateFile::startRide(Server &server, TestClient &rider)
{
    if (!rider.open(server.serverPort())) {
        return {};
    }
    rider.join(QStringLiteral("onboarding"), QStringLiteral("1"));
    rider.send("1", "2", QStringLiteral("onboarding"), QStringLiteral("CREATE_SESSION"));
    const QJsonObject created = rider.next()[4][QStringLiteral("response")].toObject();
    const QString slug = created.value(QStringLiteral("slug")).toString();
    const QString token = created.value(QStringLiteral("token")).toString();
    rider.join(QStringLiteral("tracking:") + slug, QStringLiteral("3"),
               QJsonObject {{QStringLiteral("token"), token}});
    return {slug, token};
}

void tst_StateFile::restartKeepsTokens()
{
    QTemporaryDir directory;
    QVERIFY(directory.isValid());
    ServerConfig config;
    config.port = 0;
    config.stateFile = directory.filePath(QStringLiteral("rides.json"));

    QString slug;
    QString token;
    {
        Server first(config);
        QVERIFY(first.listen());
        TestClient rider;
        std::tie(slug, token) = startRide(first, rider);
        QVERIFY(!slug.isEmpty());
        QCOMPARE(first.sessions()->sessionCount(), 1);
        first.close(); // what SIGTERM does
    }
    QFile file(config.stateFile);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray contents = file.readAll();
    const QJsonObject state = QJsonDocument::fromJson(contents).object();
    QCOMPARE(state.value(QStringLiteral("version")).toInt(), 1);
    const QJsonArray rides = state.value(QStringLiteral("rides")).toArray();
    QCOMPARE(rides.size(), 1);
    QCOMPARE(rides.at(0)[QStringLiteral("slug")].toString(), slug);
    QCOMPARE(rides.at(0)[QStringLiteral("token_sha256")].toString(),
             QString::fromLatin1(Omw::SessionManager::hashToken(token).toHex()));
    QVERIFY(!contents.contains(token.toUtf8())); // only its hash
    QCOMPARE(file.permissions() & (QFileDevice::ReadOther | QFileDevice::ReadGroup),
             QFileDevice::Permissions());

    Server second(config);
    QVERIFY(second.listen());
    TestClient stranger;
    QVERIFY(stranger.open(second.serverPort()));
    QCOMPARE(stranger.join(QStringLiteral("tracking:") + slug, QStringLiteral("1"),
                           QJsonObject {{QStringLiteral("token"),
                                         QStringLiteral("guessed")}})[QStringLiteral("response")]
                                                                     [QStringLiteral("reason")],
             QJsonValue("unauthorized"));
    QCOMPARE(
        stranger.join(QStringLiteral("tracking:") + slug,
                      QStringLiteral("2"))[QStringLiteral("response")][QStringLiteral("reason")],
        QJsonValue("unauthorized"));
    TestClient rider;
    QVERIFY(rider.open(second.serverPort()));
    QCOMPARE(rider.join(QStringLiteral("tracking:") + slug, QStringLiteral("1"),
                        QJsonObject {{QStringLiteral("token"), token}}),
             QJsonObject({{"status", "ok"},
                          {"response", QJsonObject({{"slug", slug}, {"state", "waiting"}})}}));
}

void tst_StateFile::restartWithoutStateFileForgetsTokens()
{
    ServerConfig config;
    config.port = 0;
    QString slug;
    {
        Server first(config);
        QVERIFY(first.listen());
        TestClient rider;
        slug = startRide(first, rider).first;
        QVERIFY(!slug.isEmpty());
    }
    Server second(config);
    QVERIFY(second.listen());
    TestClient stranger;
    QVERIFY(stranger.open(second.serverPort()));
    QCOMPARE(stranger.join(QStringLiteral("tracking:") + slug, QStringLiteral("1"),
                           QJsonObject {{QStringLiteral("token"),
                                         QStringLiteral("guessed")}})[QStringLiteral("status")],
             QJsonValue("ok"));
}

void tst_StateFile::unreadableStateFileIsIgnored()
{
    QTemporaryDir directory;
    QVERIFY(directory.isValid());
    ServerConfig config;
    config.port = 0;
    config.stateFile = directory.filePath(QStringLiteral("rides.json"));
    QFile file(config.stateFile);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("{not json");
    file.close();
    QTest::ignoreMessage(QtWarningMsg,
                         QRegularExpression(QStringLiteral("ignoring the state file .*: it is not "
                                                           "valid JSON")));
    Server server(config);
    QVERIFY(server.listen());
    QCOMPARE(server.sessions()->reservationCount(), 0);
}

QTEST_GUILESS_MAIN(tst_StateFile)
#include "tst_statefile.moc"
