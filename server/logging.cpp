#include "logging.h"

Q_LOGGING_CATEGORY(lcServer, "omw.server", QtInfoMsg)
Q_LOGGING_CATEGORY(lcConnection, "omw.server.connection", QtInfoMsg)
Q_LOGGING_CATEGORY(lcSession, "omw.server.session", QtInfoMsg)
Q_LOGGING_CATEGORY(lcHttp, "omw.server.http", QtInfoMsg)
Q_LOGGING_CATEGORY(lcConfig, "omw.server.config", QtInfoMsg)
