#pragma once

class QQmlEngine;

namespace Omw {

class ConsoleController;

// Implements `--self-test`: compiles every QML file of the Omw.Console module, creates the main
// window with `controller`, lets it render once, and prints every error and QML warning on
// standard error. Returns the process exit code: 0 when all loaded cleanly, 1 otherwise.
int runSelfTest(QQmlEngine &engine, ConsoleController *controller);

} // namespace Omw
