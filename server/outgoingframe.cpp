#include "outgoingframe.h"

namespace Omw {

const QString &OutgoingFrame::text(Phoenix::Serializer serializer) const
{
    QString &cached = serializer == Phoenix::Serializer::V2 ? m_v2 : m_v1;
    if (cached.isEmpty()) {
        cached = QString::fromUtf8(Phoenix::encode(m_message, serializer));
    }
    return cached;
}

} // namespace Omw
