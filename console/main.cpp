// omw-console: the dispatchers' live map. Everything but start-up lives in omw-console-lib and
// the QML module Omw.Console.

#include "consolecontroller.h"
#include "consoleoptions.h"
#include "ridemodel.h"
#include "screenshot.h"
#include "selftest.h"

#include <QGuiApplication>
#include <QQmlApplicationEngine>
#include <QQmlExtensionPlugin>
#include <QQuickStyle>
#include <QQuickWindow>

#include <cstdio>

Q_IMPORT_QML_PLUGIN(Omw_Console_CorePlugin)
Q_IMPORT_QML_PLUGIN(Omw_ConsolePlugin)

int main(int argc, char *argv[])
{
    // --self-test and --screenshot need no display. Without any display the application starts
    // offscreen as well, so that option errors are reported before the missing display is.
    bool windowless = false;
    for (int i = 1; i < argc; ++i) {
        const QByteArray argument(argv[i]);
        if (argument == "--self-test" || argument.startsWith("--screenshot")) {
            windowless = true;
        }
    }
    const bool platformChosen = !qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM");
    const bool noDisplay
        = qEnvironmentVariableIsEmpty("DISPLAY") && qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY");
    if (!platformChosen && (windowless || noDisplay)) {
        qputenv("QT_QPA_PLATFORM", "offscreen");
    }
    const bool missingDisplay = !platformChosen && noDisplay && !windowless;
    QGuiApplication app(argc, argv);
    QGuiApplication::setOrganizationName(QStringLiteral("Omw"));
    QGuiApplication::setApplicationName(QStringLiteral("omw-console"));
    QGuiApplication::setApplicationDisplayName(QStringLiteral("Omw Console"));
    QGuiApplication::setApplicationVersion(QStringLiteral(OMW_VERSION));

    Omw::ConsoleOptions options;
    QString output;
    switch (Omw::ConsoleOptions::parse(QGuiApplication::arguments(), &options, &output)) {
    case Omw::ConsoleOptions::Result::Exit:
        std::printf("%s\n", qUtf8Printable(output));
        return 0;
    case Omw::ConsoleOptions::Result::Error:
        std::fprintf(stderr, "omw-console: %s\n", qUtf8Printable(output));
        return 2;
    case Omw::ConsoleOptions::Result::Run:
        break;
    }

    if (qEnvironmentVariableIsEmpty("QT_QUICK_CONTROLS_STYLE")) {
        QQuickStyle::setStyle(QStringLiteral("Material"));
    }

    Omw::ConsoleController controller(options);
    QString errorString;
    if (!controller.initialize(&errorString)) {
        std::fprintf(stderr, "omw-console: %s\n", qUtf8Printable(errorString));
        return 2;
    }
    if (missingDisplay) {
        std::fprintf(stderr,
                     "omw-console: no display found (neither DISPLAY nor WAYLAND_DISPLAY "
                     "is set); run it in a desktop session, under xvfb-run, or with "
                     "--screenshot FILE\n");
        return 2;
    }

    QQmlApplicationEngine engine;
    // The module's qmldir lies at qrc:/Omw/Console (qt_add_qml_module's default prefix in 6.4).
    engine.addImportPath(QStringLiteral("qrc:/"));
    if (options.selfTest) {
        return Omw::runSelfTest(engine, &controller);
    }
    engine.setInitialProperties({{QStringLiteral("controller"), QVariant::fromValue(&controller)}});
    engine.load(QUrl(QStringLiteral("qrc:/Omw/Console/Main.qml")));
    if (engine.rootObjects().isEmpty()) {
        std::fprintf(stderr,
                     "omw-console: the main window failed to load; run with --self-test "
                     "for details\n");
        return 1;
    }
    auto *window = qobject_cast<QQuickWindow *>(engine.rootObjects().constFirst());
    if (!options.screenshot.isEmpty() && window) {
        auto *screenshot = new Omw::ScreenshotTaker(window, controller.rides(), options.screenshot,
                                                    options.screenshotTimeout, &app);
        QObject::connect(screenshot, &Omw::ScreenshotTaker::finished, &app,
                         [](int exitCode) { QCoreApplication::exit(exitCode); });
        screenshot->start();
    }
    return QGuiApplication::exec();
}
