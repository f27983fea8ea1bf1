#include "serverconfig.h"

#include "logging.h"

#include <QCommandLineParser>
#include <QFile>
#include <QFileInfo>
#include <QSet>

#include <cmath>
#include <functional>

namespace Omw {

namespace {

// One option: its name (command line and configuration file key), value name, help text, and
// how it reads a value into a ServerConfig.
struct OptionSpec
{
    QString name;
    QString valueName; // empty for a switch
    QString help;
    std::function<bool(ServerConfig &, const QString &, QString *)> apply;
    bool repeatable = false;
};

// Longest period a QTimer can hold, in milliseconds (a signed 32-bit count): about 24.8 days.
constexpr double maxPeriodMs = 2147483647.0;

bool readSeconds(const QString &text, qint64 *milliseconds, double minimumSeconds, QString *why)
{
    bool ok = false;
    const double seconds = text.toDouble(&ok);
    if (!ok || !std::isfinite(seconds)) {
        *why = QStringLiteral("expected a number of seconds");
        return false;
    }
    if (seconds < minimumSeconds || seconds * 1000.0 > maxPeriodMs) {
        *why = QStringLiteral("expected seconds from %1 to %2")
                   .arg(minimumSeconds)
                   .arg(maxPeriodMs / 1000.0, 0, 'f', 0);
        return false;
    }
    *milliseconds = qint64(std::llround(seconds * 1000.0));
    return true;
}

bool readInt(const QString &text, int *value, int minimum, int maximum, QString *why)
{
    bool ok = false;
    const int number = text.toInt(&ok);
    if (!ok || number < minimum || number > maximum) {
        *why = QStringLiteral("expected a whole number from %1 to %2").arg(minimum).arg(maximum);
        return false;
    }
    *value = number;
    return true;
}

bool readDouble(const QString &text, double *value, double minimum, QString *why)
{
    bool ok = false;
    const double number = text.toDouble(&ok);
    if (!ok || !std::isfinite(number) || number < minimum) {
        *why = QStringLiteral("expected a number of at least %1").arg(minimum);
        return false;
    }
    *value = number;
    return true;
}

bool readBool(const QString &text, bool *value, QString *why)
{
    const QString lower = text.trimmed().toLower();
    if (lower.isEmpty() || lower == QLatin1String("true") || lower == QLatin1String("yes")
        || lower == QLatin1String("on") || lower == QLatin1String("1")) {
        *value = true;
        return true;
    }
    if (lower == QLatin1String("false") || lower == QLatin1String("no")
        || lower == QLatin1String("off") || lower == QLatin1String("0")) {
        *value = false;
        return true;
    }
    *why = QStringLiteral("expected true or false");
    return false;
}

bool readAddress(const QString &text, QHostAddress *address, QString *why)
{
    const QString trimmed = text.trimmed();
    if (trimmed == QLatin1String("any") || trimmed == QLatin1String("*")) {
        *address = QHostAddress::Any;
        return true;
    }
    if (trimmed == QLatin1String("localhost")) {
        *address = QHostAddress::LocalHost;
        return true;
    }
    const QHostAddress parsed(trimmed);
    if (parsed.isNull()) {
        *why = QStringLiteral("expected an IPv4 or IPv6 address, \"localhost\" or \"any\"");
        return false;
    }
    *address = parsed;
    return true;
}

QString seconds(qint64 milliseconds)
{
    return QString::number(double(milliseconds) / 1000.0);
}

QList<OptionSpec> optionSpecs()
{
    const ServerConfig defaults;
    using C = ServerConfig;
    QList<OptionSpec> specs;
    auto add = [&specs](OptionSpec spec) {
        specs.append(std::move(spec));
    };

    add({QStringLiteral("bind"), QStringLiteral("ADDRESS"),
         QStringLiteral("Address to listen on: an IPv4 or IPv6 address, \"localhost\", or "
                        "\"any\" for every interface. Default: %1.")
             .arg(defaults.bind.toString()),
         [](C &c, const QString &v, QString *why) {
             return readAddress(v, &c.bind, why);
         }});
    add({QStringLiteral("port"), QStringLiteral("PORT"),
         QStringLiteral("TCP port for WebSocket and HTTP; 0 picks a free port. Default: %1.")
             .arg(defaults.port),
         [](C &c, const QString &v, QString *why) {
             int port = 0;
             if (!readInt(v, &port, 0, 65535, why)) {
                 return false;
             }
             c.port = quint16(port);
             return true;
         }});
    add({QStringLiteral("tls-cert"), QStringLiteral("FILE"),
         QStringLiteral("PEM certificate chain; with --tls-key the server speaks wss:// and "
                        "https://. Default: none (plain ws://)."),
         [](C &c, const QString &v, QString *) {
             c.tlsCertificate = v;
             return true;
         }});
    add({QStringLiteral("tls-key"), QStringLiteral("FILE"),
         QStringLiteral("PEM private key (RSA or EC, unencrypted) of --tls-cert. Default: none."),
         [](C &c, const QString &v, QString *) {
             c.tlsKey = v;
             return true;
         }});
    add({QStringLiteral("allowed-origin"), QStringLiteral("ORIGIN"),
         QStringLiteral("Origin allowed to open a WebSocket, such as https://omw.example.org; "
                        "repeatable. Requests without an Origin header (apps, tools) are always "
                        "allowed. Default: every Origin."),
         [](C &c, const QString &v, QString *) {
             c.allowedOrigins.append(v.trimmed());
             return true;
         },
         true});
    add({QStringLiteral("trusted-proxy"), QStringLiteral("ADDRESS"),
         QStringLiteral("Reverse proxy whose X-Forwarded-For header names the client, for "
                        "per-address limits and logs; repeatable. Default: none."),
         [](C &c, const QString &v, QString *why) {
             QHostAddress address;
             if (!readAddress(v, &address, why)) {
                 return false;
             }
             c.trustedProxies.append(address);
             return true;
         },
         true});
    add({QStringLiteral("idle-timeout"), QStringLiteral("SECONDS"),
         QStringLiteral("Close a connection that sends no frame for this long (clients send a "
                        "heartbeat every 30 s). Default: %1.")
             .arg(seconds(defaults.idleTimeout)),
         [](C &c, const QString &v, QString *why) {
             return readSeconds(v, &c.idleTimeout, 0.05, why);
         }});
    add({QStringLiteral("max-frame-size"), QStringLiteral("BYTES"),
         QStringLiteral("Largest incoming frame; larger ones close the connection with 1009. "
                        "Default: %1.")
             .arg(defaults.maxFrameSize),
         [](C &c, const QString &v, QString *why) {
             return readInt(v, &c.maxFrameSize, 256, 16 * 1024 * 1024, why);
         }});
    add({QStringLiteral("max-channels"), QStringLiteral("COUNT"),
         QStringLiteral("Channels one connection may join. Default: %1.").arg(defaults.maxChannels),
         [](C &c, const QString &v, QString *why) {
             return readInt(v, &c.maxChannels, 1, 100000, why);
         }});
    add({QStringLiteral("message-rate"), QStringLiteral("PER_SECOND"),
         QStringLiteral("Sustained messages per second one connection may send; messages over "
                        "it get rate_limited, and a connection sending over twice the rate is "
                        "closed with 1008. Default: %1.")
             .arg(defaults.messageRate),
         [](C &c, const QString &v, QString *why) {
             return readDouble(v, &c.messageRate, 0.01, why);
         }});
    add({QStringLiteral("message-burst"), QStringLiteral("COUNT"),
         QStringLiteral("Messages one connection may send at once above --message-rate. "
                        "Default: %1.")
             .arg(defaults.messageBurst),
         [](C &c, const QString &v, QString *why) {
             return readInt(v, &c.messageBurst, 1, 10'000'000, why);
         }});
    add({QStringLiteral("max-connections"), QStringLiteral("COUNT"),
         QStringLiteral("Open connections, WebSocket and HTTP; more get HTTP 503. Keep it below "
                        "the process's open-file limit (ulimit -n). Default: %1.")
             .arg(defaults.maxConnections),
         [](C &c, const QString &v, QString *why) {
             return readInt(v, &c.maxConnections, 1, 10'000'000, why);
         }});
    add({QStringLiteral("send-queue-limit"), QStringLiteral("BYTES"),
         QStringLiteral("Bytes waiting to be sent to one connection; a follower further behind "
                        "is disconnected with 1008. Default: %1.")
             .arg(defaults.sendQueueLimit),
         [](C &c, const QString &v, QString *why) {
             int bytes = 0;
             if (!readInt(v, &bytes, 1024, 1024 * 1024 * 1024, why)) {
                 return false;
             }
             c.sendQueueLimit = bytes;
             return true;
         }});
    add({QStringLiteral("mnemonic-words"), QStringLiteral("COUNT"),
         QStringLiteral("Words in a generated ride name. Default: %1.").arg(defaults.mnemonicWords),
         [](C &c, const QString &v, QString *why) {
             return readInt(v, &c.mnemonicWords, 2, 6, why);
         }});
    add({QStringLiteral("require-token"), QString(),
         QStringLiteral("Reject tracking joins without a ride token, so rides can only be "
                        "created with CREATE_SESSION. Default: off (original clients work)."),
         [](C &c, const QString &v, QString *why) {
             return readBool(v, &c.requireToken, why);
         }});
    add({QStringLiteral("reservation-timeout"), QStringLiteral("SECONDS"),
         QStringLiteral("How long a generated ride name stays reserved for its rider, and an "
                        "ended ride's name stays out of use. Default: %1.")
             .arg(seconds(defaults.reservationTimeout)),
         [](C &c, const QString &v, QString *why) {
             return readSeconds(v, &c.reservationTimeout, 0.05, why);
         }});
    add({QStringLiteral("max-reservations-per-address"), QStringLiteral("COUNT"),
         QStringLiteral("Unclaimed ride names one client address may hold at once, so that one "
                        "client cannot reserve every name. Default: %1.")
             .arg(defaults.maxReservationsPerAddress),
         [](C &c, const QString &v, QString *why) {
             return readInt(v, &c.maxReservationsPerAddress, 1, 10'000'000, why);
         }});
    add({QStringLiteral("rider-grace"), QStringLiteral("SECONDS"),
         QStringLiteral("How long a rider who dropped off may take to come back before the ride "
                        "ends. Default: %1.")
             .arg(seconds(defaults.riderGrace)),
         [](C &c, const QString &v, QString *why) {
             return readSeconds(v, &c.riderGrace, 0.05, why);
         }});
    add({QStringLiteral("inactivity-timeout"), QStringLiteral("SECONDS"),
         QStringLiteral("End a ride when no position arrives for this long. Default: %1.")
             .arg(seconds(defaults.inactivityTimeout)),
         [](C &c, const QString &v, QString *why) {
             return readSeconds(v, &c.inactivityTimeout, 0.05, why);
         }});
    add({QStringLiteral("max-ride-duration"), QStringLiteral("SECONDS"),
         QStringLiteral("End a ride this long after it started. Default: %1.")
             .arg(seconds(defaults.maxRideDuration)),
         [](C &c, const QString &v, QString *why) {
             return readSeconds(v, &c.maxRideDuration, 0.05, why);
         }});
    add({QStringLiteral("max-rides"), QStringLiteral("COUNT"),
         QStringLiteral("Rides at once (and, separately, unclaimed reserved names). Default: %1.")
             .arg(defaults.maxRides),
         [](C &c, const QString &v, QString *why) {
             return readInt(v, &c.maxRides, 1, 10'000'000, why);
         }});
    add({QStringLiteral("max-rides-per-address"), QStringLiteral("COUNT"),
         QStringLiteral("Rides started from one client address that may be live or offline at "
                        "once, so that one client cannot take every ride slot. Default: %1.")
             .arg(defaults.maxRidesPerAddress),
         [](C &c, const QString &v, QString *why) {
             return readInt(v, &c.maxRidesPerAddress, 1, 10'000'000, why);
         }});
    add({QStringLiteral("max-followers"), QStringLiteral("COUNT"),
         QStringLiteral("Followers of one ride. Default: %1.").arg(defaults.maxFollowers),
         [](C &c, const QString &v, QString *why) {
             return readInt(v, &c.maxFollowers, 1, 10'000'000, why);
         }});
    add({QStringLiteral("trail-length"), QStringLiteral("COUNT"),
         QStringLiteral("Recent positions in a follower's join snapshot. Default: %1.")
             .arg(defaults.trailLength),
         [](C &c, const QString &v, QString *why) {
             return readInt(v, &c.trailLength, 0, 100'000, why);
         }});
    add({QStringLiteral("allow-no-fix"), QString(),
         QStringLiteral("Accept positions at exactly latitude 0, longitude 0, which receivers "
                        "send without a fix. Default: off (rejected with no_fix)."),
         [](C &c, const QString &v, QString *why) {
             return readBool(v, &c.allowNoFix, why);
         }});
    add({QStringLiteral("max-future-skew"), QStringLiteral("SECONDS"),
         QStringLiteral("How far ahead of the server clock a position's timestamp may be. "
                        "Default: %1.")
             .arg(seconds(defaults.maxFutureSkew)),
         [](C &c, const QString &v, QString *why) {
             return readSeconds(v, &c.maxFutureSkew, 0, why);
         }});
    add({QStringLiteral("follow-join-rate"), QStringLiteral("PER_SECOND"),
         QStringLiteral("Sustained follow joins per second from one address for rides that are "
                        "not live, against guessing names. Default: %1.")
             .arg(defaults.followJoinRate),
         [](C &c, const QString &v, QString *why) {
             return readDouble(v, &c.followJoinRate, 0.001, why);
         }});
    add({QStringLiteral("follow-join-burst"), QStringLiteral("COUNT"),
         QStringLiteral("Follow joins from one address allowed at once above --follow-join-rate. "
                        "Default: %1.")
             .arg(defaults.followJoinBurst),
         [](C &c, const QString &v, QString *why) {
             return readInt(v, &c.followJoinBurst, 1, 10'000'000, why);
         }});
    add({QStringLiteral("state-file"), QStringLiteral("FILE"),
         QStringLiteral("File where the server keeps the names and token hashes of its rides, "
                        "so that after a restart only a ride's own token takes it back. "
                        "Default: none (a restart forgets ride tokens)."),
         [](C &c, const QString &v, QString *) {
             c.stateFile = v;
             return true;
         }});
    add({QStringLiteral("dispatch-token-file"), QStringLiteral("FILE"),
         QStringLiteral("File holding the dispatcher token that the dispatch topic requires. "
                        "Default: none (dispatch disabled)."),
         [](C &c, const QString &v, QString *) {
             c.dispatchTokenFile = v;
             return true;
         }});
    return specs;
}

// Reads "key = value" lines; blank lines and lines starting with '#' or ';' are comments. A
// value may be quoted with double quotes.
bool readConfigurationLines(const QString &path, QList<std::pair<QString, QString>> *entries,
                            QString *errorString)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly | QIODevice::Text)) {
        *errorString = QStringLiteral("cannot read the configuration file %1: %2")
                           .arg(path, file.errorString());
        return false;
    }
    QSet<QString> keys;
    int number = 0;
    while (!file.atEnd()) {
        ++number;
        const QString line = QString::fromUtf8(file.readLine()).trimmed();
        if (line.isEmpty() || line.startsWith(QLatin1Char('#'))
            || line.startsWith(QLatin1Char(';'))) {
            continue;
        }
        if (line.startsWith(QLatin1Char('['))) {
            *errorString = QStringLiteral("%1 line %2: sections such as \"%3\" are not used; "
                                          "write every key at the top level")
                               .arg(path)
                               .arg(number)
                               .arg(line.left(60));
            return false;
        }
        const qsizetype equals = line.indexOf(QLatin1Char('='));
        const QString key = line.left(equals).trimmed();
        if (equals <= 0 || key.isEmpty()) {
            *errorString = QStringLiteral("%1 line %2: expected \"key = value\", got \"%3\"; a "
                                          "switch is written \"%3 = true\"")
                               .arg(path)
                               .arg(number)
                               .arg(line.left(60));
            return false;
        }
        if (keys.contains(key)) {
            *errorString = QStringLiteral("%1 line %2: %3 is set a second time; give each key "
                                          "once (repeatable keys take a comma-separated list)")
                               .arg(path)
                               .arg(number)
                               .arg(key);
            return false;
        }
        keys.insert(key);
        QString value = line.mid(equals + 1).trimmed();
        if (value.size() >= 2 && value.startsWith(QLatin1Char('"'))
            && value.endsWith(QLatin1Char('"'))) {
            value = value.mid(1, value.size() - 2);
        }
        entries->append({key, value});
    }
    return true;
}

} // namespace

void ServerConfig::addOptions(QCommandLineParser *parser)
{
    parser->addOption(QCommandLineOption(
        QStringLiteral("config"),
        QStringLiteral("Configuration file of \"key = value\" lines whose keys are the long "
                       "option names below; the command line overrides it."),
        QStringLiteral("FILE")));
    for (const OptionSpec &spec : optionSpecs()) {
        if (spec.valueName.isEmpty()) {
            parser->addOption(QCommandLineOption(spec.name, spec.help));
        } else {
            parser->addOption(QCommandLineOption(spec.name, spec.help, spec.valueName));
        }
    }
}

std::optional<ServerConfig> ServerConfig::fromCommandLine(const QCommandLineParser &parser,
                                                          QString *errorString)
{
    ServerConfig config;
    const QList<OptionSpec> specs = optionSpecs();

    if (parser.isSet(QStringLiteral("config"))) {
        const QString path = parser.value(QStringLiteral("config"));
        if (!QFileInfo(path).isReadable()) {
            *errorString = QStringLiteral("cannot read the configuration file %1").arg(path);
            return std::nullopt;
        }
        QList<std::pair<QString, QString>> entries;
        QString lineError;
        if (!readConfigurationLines(path, &entries, &lineError)) {
            *errorString = lineError;
            return std::nullopt;
        }
        for (const auto &[key, value] : entries) {
            const auto spec
                = std::find_if(specs.cbegin(), specs.cend(),
                               // C++17 lambdas cannot capture a structured binding
                               // (clang rejects it), so it is captured by a name.
                               [&name = key](const OptionSpec &s) { return s.name == name; });
            if (spec == specs.cend()) {
                *errorString = QStringLiteral("%1: unknown key \"%2\"; the keys are the long "
                                              "option names of omw-server --help")
                                   .arg(path, key);
                return std::nullopt;
            }
            // Repeatable keys take a comma-separated list.
            QStringList values {value};
            if (spec->repeatable) {
                values = value.split(QLatin1Char(','), Qt::SkipEmptyParts);
                for (QString &item : values) {
                    item = item.trimmed();
                }
            }
            for (const QString &item : values) {
                QString why;
                if (!spec->apply(config, item, &why)) {
                    *errorString
                        = QStringLiteral("%1: invalid %2 \"%3\": %4").arg(path, key, item, why);
                    return std::nullopt;
                }
            }
        }
        qCInfo(lcConfig).noquote() << "read configuration file" << path;
    }

    for (const OptionSpec &spec : specs) {
        if (!parser.isSet(spec.name)) {
            continue;
        }
        if (spec.repeatable) {
            // Values on the command line replace those of the file.
            if (spec.name == QLatin1String("allowed-origin")) {
                config.allowedOrigins.clear();
            } else if (spec.name == QLatin1String("trusted-proxy")) {
                config.trustedProxies.clear();
            }
        }
        const QStringList values
            = spec.valueName.isEmpty() ? QStringList {QString()} : parser.values(spec.name);
        for (const QString &value : values) {
            QString why;
            if (!spec.apply(config, value, &why)) {
                *errorString = QStringLiteral("invalid --%1 \"%2\": %3").arg(spec.name, value, why);
                return std::nullopt;
            }
        }
    }

    if (config.tlsCertificate.isEmpty() != config.tlsKey.isEmpty()) {
        *errorString = QStringLiteral("TLS needs both --tls-cert and --tls-key");
        return std::nullopt;
    }
    return config;
}

} // namespace Omw
