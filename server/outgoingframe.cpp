#include "outgoingframe.h"

namespace Omw {

namespace {

int indexOf(Phoenix::Serializer serializer)
{
    return serializer == Phoenix::Serializer::V2 ? 1 : 0;
}

} // namespace

const QString &OutgoingFrame::text(Phoenix::Serializer serializer) const
{
    QString &cached = m_text[indexOf(serializer)];
    if (cached.isEmpty()) {
        cached = QString::fromUtf8(Phoenix::encode(m_message, serializer));
    }
    return cached;
}

const QByteArray &OutgoingFrame::wireFrame(Phoenix::Serializer serializer) const
{
    QByteArray &cached = m_wireFrame[indexOf(serializer)];
    if (!cached.isEmpty()) {
        return cached;
    }
    const QByteArray payload = Phoenix::encode(m_message, serializer);
    const qsizetype size = payload.size();
    cached.reserve(size + 10);
    cached.append(char(0x81)); // FIN and the text opcode
    if (size < 126) {
        cached.append(char(size));
    } else if (size <= 0xFFFF) {
        cached.append(char(126));
        cached.append(char(size >> 8));
        cached.append(char(size & 0xFF));
    } else {
        cached.append(char(127));
        for (int shift = 56; shift >= 0; shift -= 8) {
            cached.append(char((quint64(size) >> shift) & 0xFF));
        }
    }
    cached.append(payload);
    return cached;
}

} // namespace Omw
