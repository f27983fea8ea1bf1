#include "consoleoptions.h"
#include "consolesettings.h"
#include "tilesource.h"

#include <QtTest>

using namespace Omw;

class tst_ConsoleOptions : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void parse_data();
    void parse();
    void rejected_data();
    void rejected();
    void helpExits();
    void settingsDefaults();
    void settingsPersist();
    void settingsRejectInvalid();
};

void tst_ConsoleOptions::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("Omw"));
    QCoreApplication::setApplicationName(QStringLiteral("omw-console-test"));
    QSettings(QStringLiteral("Omw"), QStringLiteral("omw-console")).clear();
}

void tst_ConsoleOptions::parse_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("server");
    QTest::addColumn<QStringList>("follow");
    QTest::addColumn<QString>("tiles");
    QTest::addColumn<QString>("tokenFile");
    QTest::addColumn<bool>("selfTest");
    QTest::addColumn<QString>("screenshot");

    QTest::newRow("nothing") << QStringList {} << "" << QStringList {} << ""
                             << "" << false << "";
    QTest::newRow("server") << QStringList {"--server", "ws://127.0.0.1:4000/socket"}
                            << "ws://127.0.0.1:4000/socket" << QStringList {} << ""
                            << "" << false << "";
    QTest::newRow("secure server") << QStringList {"--server", "wss://omw.example/socket"}
                                   << "wss://omw.example/socket" << QStringList {} << ""
                                   << "" << false << "";
    QTest::newRow("follow twice") << QStringList {"--follow", "describe-canoe", "--follow",
                                                  "ribbon-spray"}
                                  << "" << QStringList {"describe-canoe", "ribbon-spray"} << ""
                                  << "" << false << "";
    QTest::newRow("tiles none") << QStringList {"--tiles", "none"} << "" << QStringList {} << "none"
                                << "" << false << "";
    QTest::newRow("tiles mbtiles") << QStringList {"--tiles", "/maps/city.mbtiles"} << ""
                                   << QStringList {} << "/maps/city.mbtiles"
                                   << "" << false << "";
    QTest::newRow("dispatch") << QStringList {"--dispatch-token-file", "/etc/omw/token"} << ""
                              << QStringList {} << ""
                              << "/etc/omw/token" << false << "";
    QTest::newRow("self-test") << QStringList {"--self-test"} << "" << QStringList {} << ""
                               << "" << true << "";
    QTest::newRow("screenshot") << QStringList {"--screenshot", "/tmp/console.png"} << ""
                                << QStringList {} << ""
                                << "" << false << "/tmp/console.png";
}

void tst_ConsoleOptions::parse()
{
    QFETCH(QStringList, arguments);
    QFETCH(QString, server);
    QFETCH(QStringList, follow);
    QFETCH(QString, tiles);
    QFETCH(QString, tokenFile);
    QFETCH(bool, selfTest);
    QFETCH(QString, screenshot);

    ConsoleOptions options;
    QString output;
    QCOMPARE(ConsoleOptions::parse(QStringList {"omw-console"} + arguments, &options, &output),
             ConsoleOptions::Result::Run);
    QVERIFY2(output.isEmpty(), qPrintable(output));
    QCOMPARE(options.serverUrl.value_or(QString()), server);
    QCOMPARE(options.follow, follow);
    QCOMPARE(options.tiles.value_or(QString()), tiles);
    QCOMPARE(options.dispatchTokenFile.value_or(QString()), tokenFile);
    QCOMPARE(options.selfTest, selfTest);
    QCOMPARE(options.screenshot, screenshot);
    QCOMPARE(options.screenshotTimeout, 60);
}

void tst_ConsoleOptions::rejected_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("message");

    QTest::newRow("http server") << QStringList {"--server", "http://127.0.0.1:4000/socket"}
                                 << "invalid --server \"http://127.0.0.1:4000/socket\"";
    QTest::newRow("server without host")
        << QStringList {"--server", "ws:///socket"} << "invalid --server";
    QTest::newRow("unknown option") << QStringList {"--fllow", "x-y"} << "Unknown option 'fllow'";
    QTest::newRow("missing value") << QStringList {"--follow"} << "Missing value after '--follow'";
    QTest::newRow("positional") << QStringList {"describe-canoe"}
                                << "unexpected argument \"describe-canoe\"";
    QTest::newRow("zero timeout") << QStringList {"--screenshot-timeout", "0"}
                                  << "invalid --screenshot-timeout \"0\"";
    QTest::newRow("text timeout") << QStringList {"--screenshot-timeout", "soon"}
                                  << "invalid --screenshot-timeout \"soon\"";
}

void tst_ConsoleOptions::rejected()
{
    QFETCH(QStringList, arguments);
    QFETCH(QString, message);
    ConsoleOptions options;
    QString output;
    QCOMPARE(ConsoleOptions::parse(QStringList {"omw-console"} + arguments, &options, &output),
             ConsoleOptions::Result::Error);
    QVERIFY2(output.contains(message), qPrintable(output));
}

void tst_ConsoleOptions::helpExits()
{
    ConsoleOptions options;
    QString output;
    QCOMPARE(ConsoleOptions::parse({"omw-console", "--help"}, &options, &output),
             ConsoleOptions::Result::Exit);
    for (const char *option : {"--server", "--follow", "--dispatch-token-file", "--tiles",
                               "--self-test", "--screenshot"}) {
        QVERIFY2(output.contains(QLatin1String(option)), option);
    }
}

void tst_ConsoleOptions::settingsDefaults()
{
    ConsoleSettings settings;
    QCOMPARE(settings.serverUrl(), ConsoleSettings::defaultServerUrl);
    QCOMPARE(settings.tiles(), openStreetMapTemplate);
    QCOMPARE(settings.speedUnit(), QStringLiteral("km/h"));
    QCOMPARE(settings.staleAfter(), 60);
    QCOMPARE(settings.tileCacheMiB(), 256);
    QVERIFY(settings.followedRides().isEmpty());
    QVERIFY(settings.mapCenter().isValid());
}

void tst_ConsoleOptions::settingsPersist()
{
    {
        ConsoleSettings settings;
        QSignalSpy followed(&settings, &ConsoleSettings::followedRidesChanged);
        settings.setServerUrl(QStringLiteral("ws://127.0.0.1:4100/socket"));
        settings.setTiles(QStringLiteral("none"));
        settings.setSpeedUnit(QStringLiteral("kn"));
        settings.setStaleAfter(90);
        settings.setFollowedRides(
            {QStringLiteral("describe-canoe"), QStringLiteral("ribbon-spray")});
        settings.setFollowedRides(
            {QStringLiteral("describe-canoe"), QStringLiteral("ribbon-spray")});
        QCOMPARE(followed.count(), 1);
        settings.setMapCenter(QGeoCoordinate(-27.5, 153.1));
        settings.setMapZoom(14.5);
    }
    // A new instance, as after a restart, reads everything back.
    ConsoleSettings settings;
    QCOMPARE(settings.serverUrl(), QStringLiteral("ws://127.0.0.1:4100/socket"));
    QCOMPARE(settings.tiles(), QStringLiteral("none"));
    QCOMPARE(settings.speedUnit(), QStringLiteral("kn"));
    QCOMPARE(settings.staleAfter(), 90);
    QCOMPARE(settings.followedRides(),
             (QStringList {QStringLiteral("describe-canoe"), QStringLiteral("ribbon-spray")}));
    QCOMPARE(settings.mapCenter(), QGeoCoordinate(-27.5, 153.1));
    QCOMPARE(settings.mapZoom(), 14.5);
}

void tst_ConsoleOptions::settingsRejectInvalid()
{
    ConsoleSettings settings;
    settings.setSpeedUnit(QStringLiteral("km/h"));
    settings.setSpeedUnit(QStringLiteral("furlongs per fortnight"));
    QCOMPARE(settings.speedUnit(), QStringLiteral("km/h"));
    settings.setStaleAfter(-5);
    QCOMPARE(settings.staleAfter(), 1);
    settings.setMapZoom(30);
    QCOMPARE(settings.mapZoom(), 19.0);
}

QTEST_GUILESS_MAIN(tst_ConsoleOptions)
#include "tst_consoleoptions.moc"
