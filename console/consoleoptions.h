#pragma once

#include <QString>
#include <QStringList>

#include <optional>

namespace Omw {

// The command-line options of omw-console. Values given here override the saved settings for
// this run only. Rides given with --follow are followed in addition to the saved ones, and join
// the saved list when the dispatcher next follows or removes a ride.
struct ConsoleOptions
{
    std::optional<QString> serverUrl; // --server
    QStringList follow; // --follow, repeatable: mnemonics or follow links
    std::optional<QString> dispatchTokenFile; // --dispatch-token-file
    std::optional<QString> tiles; // --tiles
    bool selfTest = false; // --self-test
    QString screenshot; // --screenshot FILE
    int screenshotTimeout = 60; // --screenshot-timeout, seconds

    enum class Result { Run, Exit, Error };
    // Parses `arguments` (argv, program name first). `Exit` means --help or --version was
    // handled and printed to `output`; `Error` puts the message into `output`.
    static Result parse(const QStringList &arguments, ConsoleOptions *options, QString *output);
};

} // namespace Omw
