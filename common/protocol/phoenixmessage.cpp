#include "phoenixmessage.h"

#include <QJsonObject>

namespace Omw::Phoenix {

Message Message::reply(const QString &status, const QJsonValue &response) const
{
    return Message {
        joinRef, ref, topic, Event::reply,
        QJsonObject {{QStringLiteral("status"), status}, {QStringLiteral("response"), response}}};
}

Message Message::replyOk(const QJsonValue &response) const
{
    return reply(QStringLiteral("ok"), response);
}

Message Message::replyError(const QJsonValue &response) const
{
    return reply(QStringLiteral("error"), response);
}

Message makeBroadcast(const QString &topic, const QString &event, const QJsonValue &payload)
{
    return Message {QJsonValue::Null, QJsonValue::Null, topic, event, payload};
}

} // namespace Omw::Phoenix
