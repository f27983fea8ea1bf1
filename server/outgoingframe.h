#pragma once

#include "phoenixcodec.h"

#include <QByteArray>
#include <QString>

namespace Omw {

// A message on its way to one or many connections. It is encoded (and framed) at most once per
// serializer, on first use, and every recipient of that serializer is sent the same implicitly
// shared bytes, so fan-out does no per-recipient JSON work.
class OutgoingFrame
{
public:
    explicit OutgoingFrame(Phoenix::Message message) : m_message(std::move(message)) { }

    const Phoenix::Message &message() const { return m_message; }
    // The JSON text, for transports that frame it themselves.
    const QString &text(Phoenix::Serializer serializer) const;
    // The complete WebSocket text frame as a server sends it (unmasked header and payload).
    const QByteArray &wireFrame(Phoenix::Serializer serializer) const;

private:
    Phoenix::Message m_message;
    mutable QString m_text[2];
    mutable QByteArray m_wireFrame[2];
};

} // namespace Omw
