#pragma once

#include <QLoggingCategory>

// One category per area of the server; operators switch them with QT_LOGGING_RULES, for
// example QT_LOGGING_RULES="omw.server.connection.debug=true".
Q_DECLARE_LOGGING_CATEGORY(lcServer) // omw.server: start, stop, listening address
Q_DECLARE_LOGGING_CATEGORY(lcConnection) // omw.server.connection: sockets, frames, limits
Q_DECLARE_LOGGING_CATEGORY(lcSession) // omw.server.session: rides and their lifecycle
Q_DECLARE_LOGGING_CATEGORY(lcHttp) // omw.server.http: HTTP requests other than upgrades
Q_DECLARE_LOGGING_CATEGORY(lcConfig) // omw.server.config: options and configuration files
