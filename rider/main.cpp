#include "livesource.h"
#include "replay.h"
#include "rideroptions.h"
#include "ridesession.h"
#include "track.h"

#include <QCoreApplication>
#include <QLoggingCategory>
#include <QSocketNotifier>

#include <csignal>
#include <cstdio>
#include <sys/socket.h>
#include <unistd.h>

using namespace Omw::Rider;

namespace {

int signalSockets[2] = {-1, -1};

void handleSignal(int)
{
    const char byte = 1;
    // Only async-signal-safe calls here; the event loop reads the byte.
    [[maybe_unused]] const ssize_t written = ::write(signalSockets[0], &byte, 1);
}

void printLine(FILE *stream, const QString &line)
{
    std::fputs(line.toLocal8Bit().constData(), stream);
    std::fputc('\n', stream);
    std::fflush(stream);
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("omw-rider"));
    QCoreApplication::setApplicationVersion(QStringLiteral(OMW_VERSION));

    const ParsedArguments parsed = parseRiderArguments(QCoreApplication::arguments());
    if (!parsed.options) {
        if (!parsed.errorString.isEmpty()) {
            printLine(stderr, QStringLiteral("omw-rider: %1").arg(parsed.errorString));
            printLine(stderr, QStringLiteral("Run omw-rider --help for the options."));
            return 2;
        }
        std::fputs(parsed.output.toLocal8Bit().constData(), stdout);
        return 0;
    }
    const RiderOptions &options = *parsed.options;
    // The rider prints what a person needs; the log categories are for --verbose, unless
    // QT_LOGGING_RULES chooses otherwise.
    if (!options.verbose && qEnvironmentVariableIsEmpty("QT_LOGGING_RULES"))
        QLoggingCategory::setFilterRules(QStringLiteral("omw.*.info=false\nomw.*.warning=false"));

    // The track is read before connecting, so that a bad file fails fast.
    Replayer *replayer = nullptr;
    LiveSource *live = nullptr;
    if (!options.file.isEmpty()) {
        QString errorString;
        const std::optional<Track> track = readTrackFile(options.file, &errorString);
        if (!track) {
            printLine(stderr, QStringLiteral("omw-rider: %1").arg(errorString));
            return 1;
        }
        ReplayOptions replayOptions;
        replayOptions.speedup = options.speedup;
        replayOptions.loop = options.loop;
        replayOptions.originalTimes = options.originalTimes;
        replayOptions.maxPause = options.maxPause;
        replayer = new Replayer(*track, replayOptions, &app);
        printLine(stderr,
                  QStringLiteral("omw-rider: %1: %2 fixes (%3), %4 s at speed-up %5")
                      .arg(options.file)
                      .arg(track->fixes.size())
                      .arg(formatName(track->format))
                      .arg(double(replayer->plan().duration()) / 1000 / options.speedup, 0, 'f', 1)
                      .arg(options.speedup));
        for (const QString &line : track->quirks.summary() + replayer->plan().summary())
            printLine(stderr, QStringLiteral("omw-rider: %1").arg(line));
    } else {
        live = new LiveSource(&app);
        QString errorString;
        const bool opened = options.system
            ? live->openSystemSource(&errorString)
            : live->openDevice(options.device, options.baudRate, &errorString);
        if (!opened) {
            printLine(stderr, QStringLiteral("omw-rider: %1").arg(errorString));
            return 1;
        }
    }

    RideSession::Options sessionOptions;
    sessionOptions.server = options.server;
    sessionOptions.slug = options.slug;
    sessionOptions.token = options.token;
    auto *session = new RideSession(sessionOptions, &app);
    QObject::connect(session, &RideSession::messagePrinted, &app,
                     [](const QString &line) { printLine(stdout, line); });
    QObject::connect(session, &RideSession::warningPrinted, &app, [](const QString &line) {
        printLine(stderr, QStringLiteral("omw-rider: %1").arg(line));
    });
    QObject::connect(session, &RideSession::finished, &app, [live](int exitCode) {
        if (live) {
            for (const QString &line : live->quirks().summary())
                printLine(stderr, QStringLiteral("omw-rider: in total, %1").arg(line));
        }
        QCoreApplication::exit(exitCode);
    });
    if (replayer) {
        QObject::connect(session, &RideSession::ready, replayer, &Replayer::start);
        QObject::connect(replayer, &Replayer::positionReady, session,
                         [session](const Omw::Position &position) { session->publish(position); });
        QObject::connect(replayer, &Replayer::finished, session, &RideSession::finish);
    } else {
        QObject::connect(session, &RideSession::ready, live, &LiveSource::start);
        QObject::connect(live, &LiveSource::positionReady, session, &RideSession::publish);
        QObject::connect(live, &LiveSource::quirkFound, &app, [](const QString &line) {
            printLine(stderr, QStringLiteral("omw-rider: %1").arg(line));
        });
        QObject::connect(live, &LiveSource::failed, &app, [](const QString &line) {
            printLine(stderr, QStringLiteral("omw-rider: %1").arg(line));
        });
    }

    // Ctrl-C (SIGINT) or SIGTERM leaves the channel, so followers get TERMINATED. A second
    // signal quits at once.
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, signalSockets) == 0) {
        auto *notifier = new QSocketNotifier(signalSockets[1], QSocketNotifier::Read, &app);
        QObject::connect(notifier, &QSocketNotifier::activated, &app, [session, replayer, live] {
            char byte = 0;
            [[maybe_unused]] const ssize_t read = ::read(signalSockets[1], &byte, 1);
            static int signalCount = 0;
            if (++signalCount > 1)
                QCoreApplication::exit(130);
            if (replayer)
                replayer->stop();
            if (live)
                live->stop();
            session->finish();
        });
        std::signal(SIGINT, handleSignal);
        std::signal(SIGTERM, handleSignal);
    }

    session->start();
    return app.exec();
}
