#include "selftest.h"

#include "consolecontroller.h"

#include <QCoreApplication>
#include <QDirIterator>
#include <QEventLoop>
#include <QFile>
#include <QFileInfo>
#include <QQmlComponent>
#include <QQmlEngine>
#include <QQuickWindow>
#include <QTimer>

#include <cstdio>
#include <memory>

namespace Omw {

namespace {

const QString modulePath = QStringLiteral(":/Omw/Console");

void report(const QString &line)
{
    std::fprintf(stderr, "%s\n", qUtf8Printable(line));
}

} // namespace

int runSelfTest(QQmlEngine &engine, ConsoleController *controller)
{
    QStringList failures;
    QObject::connect(&engine, &QQmlEngine::warnings, controller,
                     [&failures](const QList<QQmlError> &warnings) {
                         for (const QQmlError &warning : warnings) {
                             failures.append(warning.toString());
                         }
                     });

    // Each file is compiled as a type of the module, the way the application uses it, so that
    // singletons and imports resolve as at run time. Compiling does not create the object, so
    // required properties need no values here.
    int files = 0;
    QDirIterator it(modulePath, {QStringLiteral("*.qml")}, QDir::Files);
    while (it.hasNext()) {
        const QFileInfo file(it.next());
        ++files;
        const QString typeName = file.completeBaseName();
        QFile source(file.filePath());
        const bool singleton
            = source.open(QIODevice::ReadOnly) && source.readAll().contains("pragma Singleton");
        const QByteArray document = singleton
            ? QByteArrayLiteral("import QtQml\nimport Omw.Console\nQtObject { property var probe: ")
                + typeName.toUtf8() + QByteArrayLiteral(" }\n")
            : QByteArrayLiteral("import Omw.Console\n") + typeName.toUtf8()
                + QByteArrayLiteral(" {}\n");
        QQmlComponent component(&engine);
        // A local URL keeps compilation synchronous; a custom scheme would make it
        // asynchronous, and the component would go away while the loader thread uses it.
        component.setData(
            document,
            QUrl(QStringLiteral("qrc:/omw-self-test/") + typeName + QStringLiteral(".qml")));
        while (component.isLoading()) {
            QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
        }
        if (component.isError()) {
            for (const QQmlError &error : component.errors()) {
                failures.append(error.toString());
            }
        }
    }
    if (files == 0) {
        failures.append(QStringLiteral("no QML files found under qrc%1").arg(modulePath));
    }

    QQmlComponent main(&engine, QUrl(QStringLiteral("qrc:/Omw/Console/Main.qml")));
    std::unique_ptr<QObject> window(main.createWithInitialProperties(
        {{QStringLiteral("controller"), QVariant::fromValue(controller)}}));
    auto *quickWindow = qobject_cast<QQuickWindow *>(window.get());
    if (!quickWindow) {
        for (const QQmlError &error : main.errors()) {
            failures.append(error.toString());
        }
        failures.append(QStringLiteral("Main.qml did not create a window"));
    } else {
        // Render one frame, so that errors in bindings evaluated on show are seen too.
        QEventLoop loop;
        QObject::connect(quickWindow, &QQuickWindow::frameSwapped, &loop, &QEventLoop::quit);
        QTimer::singleShot(10000, &loop, &QEventLoop::quit);
        quickWindow->show();
        loop.exec();
    }

    if (!failures.isEmpty()) {
        report(QStringLiteral("self-test failed:"));
        for (const QString &failure : std::as_const(failures)) {
            report(QStringLiteral("  ") + failure);
        }
        return 1;
    }
    report(
        QStringLiteral("self-test passed: %1 QML files compiled, main window created").arg(files));
    return 0;
}

} // namespace Omw
