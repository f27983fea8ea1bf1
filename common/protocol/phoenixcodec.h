#pragma once

#include "phoenixmessage.h"

#include <QByteArray>
#include <QLoggingCategory>

#include <optional>

Q_DECLARE_LOGGING_CATEGORY(lcProtocol)

namespace Omw::Phoenix {

// Result of decoding one text frame. When decoding fails, `canReply` tells whether the topic
// and the ref could still be read, so that the peer can be sent an error reply instead of being
// disconnected.
struct DecodeResult
{
    enum Error {
        NoError,
        InvalidJson, // the text is not a JSON document
        InvalidEnvelope, // valid JSON, but not an envelope of the serializer's shape
    };

    Message message;
    Error error = NoError;
    QString errorString;
    bool canReply = false;

    bool isValid() const { return error == NoError; }
};

// Whether a V1 encoding carries the `join_ref` key. Clients send it; the original server never
// does, and some V1 clients match replies on the exact key set.
enum class JoinRefKey { Omit, Include };

DecodeResult decode(const QByteArray &text, Serializer serializer);
QByteArray encode(const Message &message, Serializer serializer,
                  JoinRefKey joinRefKey = JoinRefKey::Omit);

// Returns the serializer for a `vsn` query value, or nothing when that version is not supported.
// An absent `vsn` selects V1, as in Phoenix.
std::optional<Serializer> serializerForVsn(const std::optional<QString> &vsn);

} // namespace Omw::Phoenix
