#include "serverconfig.h"

#include <QCommandLineParser>
#include <QFile>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <optional>

using Omw::ServerConfig;

// omw-server's options: every one parsed from the command line and from the configuration
// file, periods in seconds with fractions, and errors that name the option and the value.
class tst_ServerConfig : public QObject
{
    Q_OBJECT

private slots:
    void init();

    void optionNames();
    void defaults();
    void everyOption();
    void switchesInFile_data();
    void switchesInFile();
    void invalidValue_data();
    void invalidValue();
    void configFile();
    void commandLineOverridesFile();
    void invalidFile_data();
    void invalidFile();
    void missingConfigFile();
    void packagedConfigHoldsDefaults();

private:
    // Parses `arguments` (without the program name) and returns the config, or sets m_error.
    std::optional<ServerConfig> parse(const QStringList &arguments);
    QString writeFile(const QByteArray &contents);

    QTemporaryDir m_dir;
    QString m_error;
    int m_fileCount = 0;
};

void tst_ServerConfig::init()
{
    QVERIFY(m_dir.isValid());
    m_error.clear();
}

std::optional<ServerConfig> tst_ServerConfig::parse(const QStringList &arguments)
{
    QCommandLineParser parser;
    ServerConfig::addOptions(&parser);
    if (!parser.parse(QStringList {QStringLiteral("omw-server")} + arguments)) {
        m_error = parser.errorText();
        return std::nullopt;
    }
    return ServerConfig::fromCommandLine(parser, &m_error);
}

QString tst_ServerConfig::writeFile(const QByteArray &contents)
{
    const QString path = m_dir.filePath(QStringLiteral("omw-server-%1.conf").arg(++m_fileCount));
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(contents) != contents.size()) {
        qWarning() << "cannot write" << path;
    }
    return path;
}

void tst_ServerConfig::optionNames()
{
    QCommandLineParser parser;
    ServerConfig::addOptions(&parser);
    const QString help = parser.helpText();
    static const QRegularExpression optionLine(QStringLiteral("^  --([a-z-]+)"),
                                               QRegularExpression::MultilineOption);
    QStringList names;
    for (auto it = optionLine.globalMatch(help); it.hasNext();) {
        names.append(it.next().captured(1));
    }
    QCOMPARE(names,
             QStringList({"config",
                          "bind",
                          "port",
                          "tls-cert",
                          "tls-key",
                          "allowed-origin",
                          "trusted-proxy",
                          "idle-timeout",
                          "max-frame-size",
                          "max-channels",
                          "message-rate",
                          "message-burst",
                          "max-connections",
                          "send-queue-limit",
                          "mnemonic-words",
                          "require-token",
                          "reservation-timeout",
                          "max-reservations-per-address",
                          "rider-grace",
                          "inactivity-timeout",
                          "max-ride-duration",
                          "max-rides",
                          "max-rides-per-address",
                          "max-followers",
                          "trail-length",
                          "allow-no-fix",
                          "max-future-skew",
                          "follow-join-rate",
                          "follow-join-burst",
                          "state-file",
                          "dispatch-token-file"}));
    // The help states each default, except for --config, which has none.
    QCOMPARE(help.count(QStringLiteral("Default")), names.size() - 1);
}

void tst_ServerConfig::defaults()
{
    const std::optional<ServerConfig> config = parse({});
    QVERIFY2(config, qPrintable(m_error));
    QCOMPARE(config->bind, QHostAddress(QHostAddress::LocalHost));
    QCOMPARE(config->port, quint16(4000));
    QCOMPARE(config->riderGrace, 120'000);
    QCOMPARE(config->idleTimeout, 60'000);
    QCOMPARE(config->maxFrameSize, 64 * 1024);
    QCOMPARE(config->maxChannels, 100);
    QCOMPARE(config->messageRate, 100.0);
    QCOMPARE(config->inactivityTimeout, 30 * 60'000);
    QCOMPARE(config->maxRideDuration, 24 * 3600'000);
    QCOMPARE(config->reservationTimeout, 10 * 60'000);
    QCOMPARE(config->maxReservationsPerAddress, 20);
    QCOMPARE(config->maxFutureSkew, 5 * 60'000);
    QCOMPARE(config->trailLength, 500);
    QCOMPARE(config->mnemonicWords, 2);
    QCOMPARE(config->requireToken, false);
    QCOMPARE(config->allowNoFix, false);
    QVERIFY(config->allowedOrigins.isEmpty());
    QVERIFY(config->dispatchTokenFile.isEmpty());
    QVERIFY(config->tlsCertificate.isEmpty());
}

void tst_ServerConfig::everyOption()
{
    const std::optional<ServerConfig> config = parse({
        "--bind",
        "::1",
        "--port",
        "4100",
        "--tls-cert",
        "/etc/omw/cert.pem",
        "--tls-key",
        "/etc/omw/key.pem",
        "--allowed-origin",
        "https://a.example.org",
        "--allowed-origin",
        "https://b.example.org",
        "--trusted-proxy",
        "10.0.0.1",
        "--trusted-proxy",
        "::1",
        "--idle-timeout",
        "45.5",
        "--max-frame-size",
        "1024",
        "--max-channels",
        "7",
        "--message-rate",
        "2.5",
        "--message-burst",
        "9",
        "--max-connections",
        "300",
        "--send-queue-limit",
        "4096",
        "--mnemonic-words",
        "4",
        "--require-token",
        "--reservation-timeout",
        "0.25",
        "--max-reservations-per-address",
        "3",
        "--rider-grace",
        "0.5",
        "--inactivity-timeout",
        "90",
        "--max-ride-duration",
        "3600",
        "--max-rides",
        "11",
        "--max-followers",
        "12",
        "--trail-length",
        "0",
        "--allow-no-fix",
        "--max-future-skew",
        "0",
        "--follow-join-rate",
        "0.25",
        "--follow-join-burst",
        "4",
        "--dispatch-token-file",
        "/etc/omw/dispatch-token",
    });
    QVERIFY2(config, qPrintable(m_error));
    QCOMPARE(config->bind, QHostAddress(QStringLiteral("::1")));
    QCOMPARE(config->port, quint16(4100));
    QCOMPARE(config->tlsCertificate, QStringLiteral("/etc/omw/cert.pem"));
    QCOMPARE(config->tlsKey, QStringLiteral("/etc/omw/key.pem"));
    QCOMPARE(config->allowedOrigins,
             QStringList({"https://a.example.org", "https://b.example.org"}));
    QCOMPARE(config->trustedProxies,
             QList<QHostAddress>(
                 {QHostAddress(QStringLiteral("10.0.0.1")), QHostAddress(QStringLiteral("::1"))}));
    QCOMPARE(config->idleTimeout, 45'500);
    QCOMPARE(config->maxFrameSize, 1024);
    QCOMPARE(config->maxChannels, 7);
    QCOMPARE(config->messageRate, 2.5);
    QCOMPARE(config->messageBurst, 9);
    QCOMPARE(config->maxConnections, 300);
    QCOMPARE(config->sendQueueLimit, 4096);
    QCOMPARE(config->mnemonicWords, 4);
    QCOMPARE(config->requireToken, true);
    QCOMPARE(config->reservationTimeout, 250);
    QCOMPARE(config->maxReservationsPerAddress, 3);
    QCOMPARE(config->riderGrace, 500);
    QCOMPARE(config->inactivityTimeout, 90'000);
    QCOMPARE(config->maxRideDuration, 3'600'000);
    QCOMPARE(config->maxRides, 11);
    QCOMPARE(config->maxFollowers, 12);
    QCOMPARE(config->trailLength, 0);
    QCOMPARE(config->allowNoFix, true);
    QCOMPARE(config->maxFutureSkew, 0);
    QCOMPARE(config->followJoinRate, 0.25);
    QCOMPARE(config->followJoinBurst, 4);
    QCOMPARE(config->dispatchTokenFile, QStringLiteral("/etc/omw/dispatch-token"));
}

void tst_ServerConfig::switchesInFile_data()
{
    QTest::addColumn<QByteArray>("value");
    QTest::addColumn<bool>("expected");
    for (const char *value : {"true", "yes", "on", "1", "TRUE"}) {
        QTest::newRow(value) << QByteArray(value) << true;
    }
    for (const char *value : {"false", "no", "off", "0"}) {
        QTest::newRow(value) << QByteArray(value) << false;
    }
}

void tst_ServerConfig::switchesInFile()
{
    QFETCH(QByteArray, value);
    QFETCH(bool, expected);
    const QString path = writeFile("require-token = " + value + "\nallow-no-fix = " + value + "\n");
    const std::optional<ServerConfig> config = parse({"--config", path});
    QVERIFY2(config, qPrintable(m_error));
    QCOMPARE(config->requireToken, expected);
    QCOMPARE(config->allowNoFix, expected);
}

void tst_ServerConfig::invalidValue_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("error");

    const QString seconds = QStringLiteral("expected seconds from %1 to 2147484");
    QTest::newRow("port 65536") << QStringList {
        "--port", "65536"} << R"(invalid --port "65536": expected a whole number from 0 to 65535)";
    QTest::newRow("port -1") << QStringList {"--port", "-1"}
                             << R"(invalid --port "-1": expected a whole number from 0 to 65535)";
    QTest::newRow("port word") << QStringList {
        "--port", "http"} << R"(invalid --port "http": expected a whole number from 0 to 65535)";
    QTest::newRow("bind")
        << QStringList {"--bind", "999.1.1.1"}
        << R"(invalid --bind "999.1.1.1": expected an IPv4 or IPv6 address, "localhost" or "any")";
    QTest::newRow("trusted proxy")
        << QStringList {"--trusted-proxy", "proxy.local"}
        << R"(invalid --trusted-proxy "proxy.local": expected an IPv4 or IPv6 address, "localhost" or "any")";
    QTest::newRow("rider grace word")
        << QStringList {"--rider-grace", "two minutes"}
        << R"(invalid --rider-grace "two minutes": expected a number of seconds)";
    QTest::newRow("rider grace nan")
        << QStringList {"--rider-grace", "nan"}
        << R"(invalid --rider-grace "nan": expected a number of seconds)";
    QTest::newRow("rider grace 0.049")
        << QStringList {"--rider-grace", "0.049"}
        << QStringLiteral(R"(invalid --rider-grace "0.049": )") + seconds.arg("0.05");
    QTest::newRow("rider grace over 24.8 days")
        << QStringList {"--rider-grace", "2147484"}
        << QStringLiteral(R"(invalid --rider-grace "2147484": )") + seconds.arg("0.05");
    QTest::newRow("idle timeout negative")
        << QStringList {"--idle-timeout", "-1"}
        << QStringLiteral(R"(invalid --idle-timeout "-1": )") + seconds.arg("0.05");
    QTest::newRow("max future skew negative")
        << QStringList {"--max-future-skew", "-0.001"}
        << QStringLiteral(R"(invalid --max-future-skew "-0.001": )") + seconds.arg("0");
    QTest::newRow("mnemonic words 1")
        << QStringList {"--mnemonic-words", "1"}
        << R"(invalid --mnemonic-words "1": expected a whole number from 2 to 6)";
    QTest::newRow("mnemonic words 7")
        << QStringList {"--mnemonic-words", "7"}
        << R"(invalid --mnemonic-words "7": expected a whole number from 2 to 6)";
    QTest::newRow("max channels fraction")
        << QStringList {"--max-channels", "1.5"}
        << R"(invalid --max-channels "1.5": expected a whole number from 1 to 100000)";
    QTest::newRow("max channels 0")
        << QStringList {"--max-channels", "0"}
        << R"(invalid --max-channels "0": expected a whole number from 1 to 100000)";
    QTest::newRow("max reservations per address 0")
        << QStringList {"--max-reservations-per-address", "0"}
        << R"(invalid --max-reservations-per-address "0": expected a whole number from 1 to 10000000)";
    QTest::newRow("message rate 0")
        << QStringList {"--message-rate", "0"}
        << R"(invalid --message-rate "0": expected a number of at least 0.01)";
    QTest::newRow("follow join rate inf")
        << QStringList {"--follow-join-rate", "inf"}
        << R"(invalid --follow-join-rate "inf": expected a number of at least 0.001)";
    QTest::newRow("send queue limit 1023")
        << QStringList {"--send-queue-limit", "1023"}
        << R"(invalid --send-queue-limit "1023": expected a whole number from 1024 to 1073741824)";
    QTest::newRow("max frame size 255")
        << QStringList {"--max-frame-size", "255"}
        << R"(invalid --max-frame-size "255": expected a whole number from 256 to 16777216)";
    QTest::newRow("trail length negative")
        << QStringList {"--trail-length", "-1"}
        << R"(invalid --trail-length "-1": expected a whole number from 0 to 100000)";
    QTest::newRow("certificate without key") << QStringList {"--tls-cert", "/etc/omw/cert.pem"}
                                             << "TLS needs both --tls-cert and --tls-key";
    QTest::newRow("key without certificate") << QStringList {"--tls-key", "/etc/omw/key.pem"}
                                             << "TLS needs both --tls-cert and --tls-key";
    QTest::newRow("unknown option")
        << QStringList {"--rider-gracee", "3"} << "Unknown option 'rider-gracee'.";
}

void tst_ServerConfig::invalidValue()
{
    QFETCH(QStringList, arguments);
    QFETCH(QString, error);
    QVERIFY(!parse(arguments));
    QCOMPARE(m_error, error);
}

void tst_ServerConfig::configFile()
{
    const QString path = writeFile("; the keys are the long option names\n"
                                   "bind = any\n"
                                   "port = 4200\n"
                                   "rider-grace = 30.5\n"
                                   "idle-timeout = 0.75\n"
                                   "allowed-origin = https://a.example.org, https://b.example.org\n"
                                   "require-token = true\n"
                                   "max-followers = 50\n"
                                   "dispatch-token-file = /var/lib/omw/dispatch-token\n"
                                   "tls-cert = /etc/omw/cert.pem\n"
                                   "tls-key = /etc/omw/key.pem\n");
    const std::optional<ServerConfig> config = parse({"--config", path});
    QVERIFY2(config, qPrintable(m_error));
    QCOMPARE(config->bind, QHostAddress(QHostAddress::Any));
    QCOMPARE(config->port, quint16(4200));
    QCOMPARE(config->riderGrace, 30'500);
    QCOMPARE(config->idleTimeout, 750);
    QCOMPARE(config->allowedOrigins,
             QStringList({"https://a.example.org", "https://b.example.org"}));
    QCOMPARE(config->requireToken, true);
    QCOMPARE(config->maxFollowers, 50);
    QCOMPARE(config->dispatchTokenFile, QStringLiteral("/var/lib/omw/dispatch-token"));
    QCOMPARE(config->tlsCertificate, QStringLiteral("/etc/omw/cert.pem"));
    QCOMPARE(config->tlsKey, QStringLiteral("/etc/omw/key.pem"));
    // Keys the file does not set keep their defaults.
    QCOMPARE(config->maxRides, ServerConfig().maxRides);
}

void tst_ServerConfig::commandLineOverridesFile()
{
    const QString path = writeFile("port = 4200\n"
                                   "rider-grace = 30\n"
                                   "allowed-origin = https://a.example.org, https://b.example.org\n"
                                   "max-rides = 5\n");
    const std::optional<ServerConfig> config
        = parse({"--port", "4300", "--config", path, "--allowed-origin", "https://c.example.org",
                 "--max-rides", "6"});
    QVERIFY2(config, qPrintable(m_error));
    QCOMPARE(config->port, quint16(4300));
    QCOMPARE(config->riderGrace, 30'000);
    // A repeatable option on the command line replaces the file's values.
    QCOMPARE(config->allowedOrigins, QStringList({"https://c.example.org"}));
    QCOMPARE(config->maxRides, 6);
}

void tst_ServerConfig::invalidFile_data()
{
    QTest::addColumn<QByteArray>("contents");
    QTest::addColumn<QString>("error"); // %1 is the file's path

    QTest::newRow("unknown key")
        << QByteArray("rider-gracee = 3\n")
        << R"(%1: unknown key "rider-gracee"; the keys are the long option names of omw-server --help)";
    QTest::newRow("key in a section")
        << QByteArray("[server]\nport = 4000\n")
        << R"(%1 line 1: sections such as "[server]" are not used; write every key at the top level)";
    QTest::newRow("switch without a value")
        << QByteArray("# comment\n\nport = 4000\nrequire-token\n")
        << R"(%1 line 4: expected "key = value", got "require-token"; a switch is written "require-token = true")";
    QTest::newRow("key set twice")
        << QByteArray("port = 0\nport = 1\n")
        << R"(%1 line 2: port is set a second time; give each key once (repeatable keys take a comma-separated list))";
    QTest::newRow("config key")
        << QByteArray("config = /etc/other.conf\n")
        << R"(%1: unknown key "config"; the keys are the long option names of omw-server --help)";
    QTest::newRow("invalid value")
        << QByteArray("max-rides = lots\n")
        << R"(%1: invalid max-rides "lots": expected a whole number from 1 to 10000000)";
    QTest::newRow("invalid period")
        << QByteArray("rider-grace = 0.01\n")
        << R"(%1: invalid rider-grace "0.01": expected seconds from 0.05 to 2147484)";
    QTest::newRow("invalid switch")
        << QByteArray("require-token = maybe\n")
        << R"(%1: invalid require-token "maybe": expected true or false)";
    QTest::newRow("two values for one")
        << QByteArray("port = 4000, 4001\n")
        << R"(%1: invalid port "4000, 4001": expected a whole number from 0 to 65535)";
}

void tst_ServerConfig::invalidFile()
{
    QFETCH(QByteArray, contents);
    QFETCH(QString, error);
    const QString path = writeFile(contents);
    QVERIFY(!parse({"--config", path}));
    QCOMPARE(m_error, error.arg(path));
}

void tst_ServerConfig::missingConfigFile()
{
    const QString path = m_dir.filePath(QStringLiteral("absent.conf"));
    QVERIFY(!parse({"--config", path}));
    QCOMPARE(m_error, QStringLiteral("cannot read the configuration file %1").arg(path));
}

void tst_ServerConfig::packagedConfigHoldsDefaults()
{
    // The packaged file shows every setting commented out with its default: uncommented, it
    // must parse and change nothing.
    QFile file(QStringLiteral(OMW_SOURCE_DIR "/packaging/server/omw-server.conf"));
    if (!file.open(QIODevice::ReadOnly)) {
        QSKIP("packaging/server/omw-server.conf is not in the source tree");
    }
    const QByteArray packaged = file.readAll();
    std::optional<ServerConfig> config = parse({"--config", writeFile(packaged)});
    QVERIFY2(config, qPrintable(m_error));

    static const QRegularExpression setting(QStringLiteral("^;([a-z-]+ = .*)$"),
                                            QRegularExpression::MultilineOption);
    QByteArray uncommented;
    QStringList keys;
    for (auto it = setting.globalMatch(QString::fromUtf8(packaged)); it.hasNext();) {
        const QRegularExpressionMatch match = it.next();
        uncommented += match.captured(1).toUtf8() + '\n';
        keys.append(match.captured(1).section(QLatin1Char(' '), 0, 0));
    }
    QVERIFY2(keys.size() >= 20, qPrintable(keys.join(',')));
    config = parse({"--config", writeFile(uncommented)});
    QVERIFY2(config, qPrintable(m_error));
    const ServerConfig defaults;
    QCOMPARE(config->bind, defaults.bind);
    QCOMPARE(config->port, defaults.port);
    QCOMPARE(config->idleTimeout, defaults.idleTimeout);
    QCOMPARE(config->maxFrameSize, defaults.maxFrameSize);
    QCOMPARE(config->maxChannels, defaults.maxChannels);
    QCOMPARE(config->messageRate, defaults.messageRate);
    QCOMPARE(config->messageBurst, defaults.messageBurst);
    QCOMPARE(config->maxConnections, defaults.maxConnections);
    QCOMPARE(config->sendQueueLimit, defaults.sendQueueLimit);
    QCOMPARE(config->mnemonicWords, defaults.mnemonicWords);
    QCOMPARE(config->requireToken, defaults.requireToken);
    QCOMPARE(config->reservationTimeout, defaults.reservationTimeout);
    QCOMPARE(config->maxReservationsPerAddress, defaults.maxReservationsPerAddress);
    QCOMPARE(config->riderGrace, defaults.riderGrace);
    QCOMPARE(config->inactivityTimeout, defaults.inactivityTimeout);
    QCOMPARE(config->maxRideDuration, defaults.maxRideDuration);
    QCOMPARE(config->maxRides, defaults.maxRides);
    QCOMPARE(config->maxFollowers, defaults.maxFollowers);
    QCOMPARE(config->trailLength, defaults.trailLength);
    QCOMPARE(config->allowNoFix, defaults.allowNoFix);
    QCOMPARE(config->maxFutureSkew, defaults.maxFutureSkew);
    QCOMPARE(config->followJoinRate, defaults.followJoinRate);
    QCOMPARE(config->followJoinBurst, defaults.followJoinBurst);
}

QTEST_GUILESS_MAIN(tst_ServerConfig)
#include "tst_serverconfig.moc"
