#include "consoleoptions.h"

#include <QCommandLineParser>
#include <QUrl>

namespace Omw {

ConsoleOptions::Result ConsoleOptions::parse(const QStringList &arguments, ConsoleOptions *options,
                                             QString *output)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Omw dispatcher console: follow motorcycle rides live on a map."));
    const QCommandLineOption help = parser.addHelpOption();
    const QCommandLineOption version = parser.addVersionOption();
    const QCommandLineOption server(
        QStringLiteral("server"),
        QStringLiteral("Omw server socket URL, e.g. ws://127.0.0.1:4000/socket (default: the "
                       "saved setting)."),
        QStringLiteral("URL"));
    const QCommandLineOption follow(
        QStringLiteral("follow"),
        QStringLiteral("Follow the ride with this mnemonic or follow link; repeatable."),
        QStringLiteral("MNEMONIC"));
    const QCommandLineOption tokenFile(
        QStringLiteral("dispatch-token-file"),
        QStringLiteral("Watch every ride through the dispatch channel, with the dispatcher token "
                       "read from this file."),
        QStringLiteral("PATH"));
    const QCommandLineOption tiles(
        QStringLiteral("tiles"),
        QStringLiteral("Map tiles: an http(s) URL template with {z}, {x} and {y}, a path to an "
                       ".mbtiles file, or \"none\" for a plain map with a graticule."),
        QStringLiteral("URL_TEMPLATE|PATH.mbtiles|none"));
    const QCommandLineOption selfTest(
        QStringLiteral("self-test"),
        QStringLiteral("Load every QML component, create the main window offscreen and exit: 0 "
                       "when everything loaded, 1 with the errors printed otherwise."));
    const QCommandLineOption screenshot(
        QStringLiteral("screenshot"),
        QStringLiteral("Save the window to FILE (PNG) once the first ride snapshot is drawn, "
                       "print the map state as JSON on standard output, and exit."),
        QStringLiteral("FILE"));
    const QCommandLineOption screenshotTimeout(
        QStringLiteral("screenshot-timeout"),
        QStringLiteral("Give up on --screenshot after this many seconds (default 60)."),
        QStringLiteral("SECONDS"), QStringLiteral("60"));
    parser.addOptions({server, follow, tokenFile, tiles, selfTest, screenshot, screenshotTimeout});

    if (!parser.parse(arguments)) {
        *output = parser.errorText() + QStringLiteral("\nRun with --help for the options.");
        return Result::Error;
    }
    if (parser.isSet(help)) {
        *output = parser.helpText();
        return Result::Exit;
    }
    if (parser.isSet(version)) {
        *output = QStringLiteral("omw-console ") + QCoreApplication::applicationVersion();
        return Result::Exit;
    }
    if (!parser.positionalArguments().isEmpty()) {
        *output = QStringLiteral("unexpected argument \"%1\"; run with --help for the options")
                      .arg(parser.positionalArguments().constFirst());
        return Result::Error;
    }
    if (parser.isSet(server)) {
        const QString value = parser.value(server);
        const QUrl url(value);
        if (!url.isValid()
            || (url.scheme() != QLatin1String("ws") && url.scheme() != QLatin1String("wss"))
            || url.host().isEmpty()) {
            *output = QStringLiteral("invalid --server \"%1\": expected a ws:// or wss:// URL "
                                     "such as ws://127.0.0.1:4000/socket")
                          .arg(value);
            return Result::Error;
        }
        options->serverUrl = value;
    }
    options->follow = parser.values(follow);
    if (parser.isSet(tokenFile)) {
        options->dispatchTokenFile = parser.value(tokenFile);
    }
    if (parser.isSet(tiles)) {
        options->tiles = parser.value(tiles);
    }
    options->selfTest = parser.isSet(selfTest);
    options->screenshot = parser.value(screenshot);
    bool ok = false;
    options->screenshotTimeout = parser.value(screenshotTimeout).toInt(&ok);
    if (!ok || options->screenshotTimeout <= 0) {
        *output = QStringLiteral("invalid --screenshot-timeout \"%1\": expected a positive "
                                 "number of seconds")
                      .arg(parser.value(screenshotTimeout));
        return Result::Error;
    }
    return Result::Run;
}

} // namespace Omw
