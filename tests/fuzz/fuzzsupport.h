#pragma once

#include <QCoreApplication>
#include <QLoggingCategory>

#include <cstdint>
#include <cstdlib>

// Shared set-up of the libFuzzer targets: one QCoreApplication for the whole run (timers and
// deferred deletes need it) and no log output, so the fuzzer's own statistics stay readable and
// millions of warnings about bad input cost no time.
namespace OmwFuzz {

inline void initialize(int *argc, char ***argv)
{
    static QCoreApplication application(*argc, *argv);
    QLoggingCategory::setFilterRules(QStringLiteral("*=false"));
    qInstallMessageHandler([](QtMsgType type, const QMessageLogContext &, const QString &) {
        // qFatal still ends the run: a fatal message is a finding, not noise.
        if (type == QtFatalMsg) {
            std::abort();
        }
    });
}

// Stops the run with a crash report that libFuzzer saves with the input that caused it.
[[noreturn]] inline void fail(const char *what)
{
    fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
}

} // namespace OmwFuzz
