#include "logging.h"
#include "server.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QSocketNotifier>

#include <csignal>
#include <sys/socket.h>
#include <unistd.h>

namespace {

int signalPipe[2] = {-1, -1};

void onSignal(int)
{
    const char byte = 1;
    [[maybe_unused]] const ssize_t written = ::write(signalPipe[1], &byte, 1);
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("omw-server"));
    QCoreApplication::setApplicationVersion(QStringLiteral(OMW_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Omw live ride tracking server: Phoenix Channels over WebSocket at /socket/websocket, "
        "with GET /healthz and GET /metrics on the same port."));
    parser.addHelpOption();
    parser.addVersionOption();
    Omw::ServerConfig::addOptions(&parser);
    parser.process(app);

    QString error;
    const std::optional<Omw::ServerConfig> config
        = Omw::ServerConfig::fromCommandLine(parser, &error);
    if (!config) {
        qCCritical(lcConfig).noquote() << error;
        return 2;
    }

    Omw::Server server(*config);
    if (!server.listen()) {
        qCCritical(lcServer).noquote() << server.errorString();
        return 1;
    }

    // SIGINT and SIGTERM stop the event loop through a socket pair, since a signal handler may
    // do nothing but write.
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, signalPipe) == 0) {
        auto *notifier = new QSocketNotifier(signalPipe[0], QSocketNotifier::Read, &app);
        QObject::connect(notifier, &QSocketNotifier::activated, &app, [&server] {
            char byte;
            [[maybe_unused]] const ssize_t count = ::read(signalPipe[0], &byte, 1);
            qCInfo(lcServer).noquote() << "stopping on a signal";
            server.close();
            QCoreApplication::quit();
        });
        std::signal(SIGINT, onSignal);
        std::signal(SIGTERM, onSignal);
    }
    std::signal(SIGPIPE, SIG_IGN);

    const int status = QCoreApplication::exec();
    qCInfo(lcServer).noquote() << "stopped";
    return status;
}
