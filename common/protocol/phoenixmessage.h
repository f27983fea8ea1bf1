#pragma once

#include <QJsonValue>
#include <QString>

namespace Omw::Phoenix {

// The two JSON serializers of Phoenix Channels. The client picks one with the `vsn` query
// parameter: 2.0.x selects V2, 1.0.x or no `vsn` selects V1.
enum class Serializer {
    V1, // {"topic", "event", "payload", "ref", "join_ref"}
    V2, // [join_ref, ref, topic, event, payload]
};

// Names of the events that Phoenix reserves for itself.
namespace Event {
inline const QString join = QStringLiteral("phx_join");
inline const QString leave = QStringLiteral("phx_leave");
inline const QString reply = QStringLiteral("phx_reply");
inline const QString close = QStringLiteral("phx_close");
inline const QString error = QStringLiteral("phx_error");
inline const QString heartbeat = QStringLiteral("heartbeat");
} // namespace Event

inline const QString phoenixTopic = QStringLiteral("phoenix");

// One Phoenix Channels message. Refs are opaque values chosen by the client (strings in every
// known client, sometimes null); a server echoes them and never interprets them.
struct Message
{
    QJsonValue joinRef; // null for broadcasts and for replies outside a joined channel
    QJsonValue ref; // null for broadcasts
    QString topic;
    QString event;
    QJsonValue payload; // an object for every push and broadcast Omw sends

    bool operator==(const Message &other) const
    {
        return joinRef == other.joinRef && ref == other.ref && topic == other.topic
            && event == other.event && payload == other.payload;
    }
    bool operator!=(const Message &other) const { return !(*this == other); }

    // Builds a `phx_reply` to this message with the given status and response.
    Message reply(const QString &status, const QJsonValue &response) const;
    Message replyOk(const QJsonValue &response) const;
    Message replyError(const QJsonValue &response) const;
};

// A broadcast carries null refs.
Message makeBroadcast(const QString &topic, const QString &event, const QJsonValue &payload);

} // namespace Omw::Phoenix
