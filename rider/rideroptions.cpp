#include "rideroptions.h"

#include <QCommandLineParser>
#include <QCoreApplication>

#include <cmath>

namespace Omw::Rider {

ParsedArguments parseRiderArguments(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Publishes a ride to an Omw server: a recorded track (NMEA 0183, GPX or "
                       "OwnTracks .rec, told apart by content), a live NMEA receiver, or the "
                       "system's position source. Recorded tracks replay as if the ride were "
                       "happening now."));
    const QCommandLineOption helpOption = parser.addHelpOption();
    const QCommandLineOption versionOption = parser.addVersionOption();
    const QCommandLineOption serverOption(
        QStringLiteral("server"),
        QStringLiteral("Socket URL of the server (default ws://127.0.0.1:4000/socket)."),
        QStringLiteral("URL"));
    const QCommandLineOption speedupOption(
        QStringLiteral("speedup"),
        QStringLiteral("Replay a recorded track N times faster than recorded (default 1)."),
        QStringLiteral("N"));
    const QCommandLineOption loopOption(QStringLiteral("loop"),
                                        QStringLiteral("Replay the track again and again until "
                                                       "interrupted."));
    const QCommandLineOption originalTimesOption(
        QStringLiteral("original-times"),
        QStringLiteral("Send the recorded times instead of the replay's clock. The server "
                       "rejects fixes older than the ride's newest one."));
    const QCommandLineOption maxPauseOption(
        QStringLiteral("max-pause"),
        QStringLiteral("Shorten pauses in the recording to at most this many seconds (default "
                       "60)."),
        QStringLiteral("SECONDS"));
    const QCommandLineOption slugOption(
        QStringLiteral("slug"),
        QStringLiteral("Publish to this existing ride (with --token) instead of creating one."),
        QStringLiteral("M"));
    const QCommandLineOption tokenOption(QStringLiteral("token"),
                                         QStringLiteral("Owner token of the ride given by "
                                                        "--slug."),
                                         QStringLiteral("T"));
    const QCommandLineOption deviceOption(
        QStringLiteral("device"),
        QStringLiteral("Read live NMEA 0183 from a serial device, e.g. /dev/ttyUSB0."),
        QStringLiteral("PATH"));
    const QCommandLineOption baudOption(QStringLiteral("baud"),
                                        QStringLiteral("Baud rate of --device (default 9600)."),
                                        QStringLiteral("RATE"));
    const QCommandLineOption systemOption(
        QStringLiteral("system"),
        QStringLiteral("Use the system's default position source (Qt Positioning)."));
    const QCommandLineOption verboseOption(
        QStringLiteral("verbose"),
        QStringLiteral("Log connection, channel and replay details on standard error (the "
                       "omw.client and omw.rider logging categories)."));
    parser.addOptions({serverOption, speedupOption, loopOption, originalTimesOption, maxPauseOption,
                       slugOption, tokenOption, deviceOption, baudOption, systemOption,
                       verboseOption});
    parser.addPositionalArgument(QStringLiteral("FILE"),
                                 QStringLiteral("A recorded track: NMEA log, GPX or OwnTracks "
                                                ".rec."));

    ParsedArguments result;
    if (!parser.parse(arguments)) {
        result.errorString = parser.errorText();
        return result;
    }
    if (parser.isSet(helpOption)) {
        result.output = parser.helpText();
        return result;
    }
    if (parser.isSet(versionOption)) {
        result.output = QStringLiteral("%1 %2\n").arg(QCoreApplication::applicationName(),
                                                      QCoreApplication::applicationVersion());
        return result;
    }

    RiderOptions options;
    if (parser.isSet(serverOption)) {
        options.server = QUrl(parser.value(serverOption), QUrl::StrictMode);
        const QString scheme = options.server.scheme();
        if (!options.server.isValid() || options.server.host().isEmpty()
            || (scheme != QLatin1String("ws") && scheme != QLatin1String("wss"))) {
            result.errorString = QStringLiteral("invalid --server \"%1\": expected "
                                                "ws://HOST:PORT/socket or wss://HOST:PORT/socket")
                                     .arg(parser.value(serverOption));
            return result;
        }
    }
    if (parser.isSet(speedupOption)) {
        bool ok = false;
        options.speedup = parser.value(speedupOption).toDouble(&ok);
        if (!ok || !std::isfinite(options.speedup) || options.speedup <= 0) {
            result.errorString = QStringLiteral("invalid --speedup \"%1\": expected a number "
                                                "greater than 0")
                                     .arg(parser.value(speedupOption));
            return result;
        }
    }
    if (parser.isSet(maxPauseOption)) {
        bool ok = false;
        const double seconds = parser.value(maxPauseOption).toDouble(&ok);
        if (!ok || !std::isfinite(seconds) || seconds < 0) {
            result.errorString = QStringLiteral("invalid --max-pause \"%1\": expected seconds, "
                                                "0 or more")
                                     .arg(parser.value(maxPauseOption));
            return result;
        }
        options.maxPause = qint64(std::llround(seconds * 1000));
    }
    if (parser.isSet(baudOption)) {
        bool ok = false;
        options.baudRate = parser.value(baudOption).toInt(&ok);
        if (!ok || options.baudRate <= 0) {
            result.errorString = QStringLiteral("invalid --baud \"%1\": expected a positive "
                                                "integer such as 4800 or 9600")
                                     .arg(parser.value(baudOption));
            return result;
        }
    }
    options.loop = parser.isSet(loopOption);
    options.originalTimes = parser.isSet(originalTimesOption);
    options.slug = parser.value(slugOption);
    options.token = parser.value(tokenOption);
    options.device = parser.value(deviceOption);
    options.system = parser.isSet(systemOption);
    options.verbose = parser.isSet(verboseOption);
    if (options.slug.isEmpty() != options.token.isEmpty()) {
        result.errorString = QStringLiteral("--slug and --token go together: give both to "
                                            "reuse a ride, or neither to create one");
        return result;
    }

    const QStringList files = parser.positionalArguments();
    const int sources
        = int(!files.isEmpty()) + int(!options.device.isEmpty()) + int(options.system);
    if (files.size() > 1) {
        result.errorString = QStringLiteral("expected one FILE, got %1").arg(files.size());
        return result;
    }
    if (sources != 1) {
        result.errorString = QStringLiteral("give exactly one position source: FILE, --device "
                                            "PATH or --system");
        return result;
    }
    if (!files.isEmpty())
        options.file = files.first();
    result.options = options;
    return result;
}

} // namespace Omw::Rider
