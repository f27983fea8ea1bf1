#include "phoenixcodec.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>

Q_LOGGING_CATEGORY(lcProtocol, "omw.common.protocol", QtInfoMsg)

namespace Omw::Phoenix {

namespace {

const QString topicField = QStringLiteral("topic");
const QString eventField = QStringLiteral("event");
const QString payloadField = QStringLiteral("payload");
const QString refField = QStringLiteral("ref");
const QString joinRefField = QStringLiteral("join_ref");

bool isRef(const QJsonValue &value)
{
    return value.isString() || value.isNull();
}

DecodeResult envelopeError(DecodeResult result, const QString &why)
{
    result.error = DecodeResult::InvalidEnvelope;
    result.errorString = why;
    return result;
}

DecodeResult decodeV2(const QJsonDocument &document)
{
    DecodeResult result;
    if (!document.isArray()) {
        return envelopeError(result,
                             QStringLiteral("expected a JSON array [join_ref, ref, topic, event, "
                                            "payload] (serializer 2.0.0)"));
    }
    const QJsonArray array = document.array();
    // Extra elements are ignored, as Phoenix does.
    if (array.size() >= 3 && array.at(2).isString() && isRef(array.at(1))) {
        result.message.topic = array.at(2).toString();
        result.message.ref = array.at(1);
        result.message.joinRef = isRef(array.at(0)) ? array.at(0) : QJsonValue(QJsonValue::Null);
        result.canReply = true;
    }
    if (array.size() < 5) {
        return envelopeError(result,
                             QStringLiteral("expected 5 elements [join_ref, ref, topic, "
                                            "event, payload], got %1")
                                 .arg(array.size()));
    }
    if (!isRef(array.at(0))) {
        return envelopeError(result, QStringLiteral("join_ref must be a string or null"));
    }
    if (!isRef(array.at(1))) {
        return envelopeError(result, QStringLiteral("ref must be a string or null"));
    }
    if (!array.at(2).isString()) {
        return envelopeError(result, QStringLiteral("topic must be a string"));
    }
    if (!array.at(3).isString()) {
        return envelopeError(result, QStringLiteral("event must be a string"));
    }
    result.message.event = array.at(3).toString();
    result.message.payload = array.at(4);
    return result;
}

DecodeResult decodeV1(const QJsonDocument &document)
{
    DecodeResult result;
    if (!document.isObject()) {
        return envelopeError(result,
                             QStringLiteral("expected a JSON object with the keys topic, event, "
                                            "payload and ref (serializer 1.0.0)"));
    }
    const QJsonObject object = document.object();
    const QJsonValue topic = object.value(topicField);
    const QJsonValue ref = object.value(refField);
    const QJsonValue joinRef = object.value(joinRefField);
    if (topic.isString() && (isRef(ref) || ref.isUndefined())) {
        result.message.topic = topic.toString();
        result.message.ref = ref.isUndefined() ? QJsonValue(QJsonValue::Null) : ref;
        result.message.joinRef = isRef(joinRef) ? joinRef : QJsonValue(QJsonValue::Null);
        result.canReply = true;
    }
    for (const QString &key : {topicField, eventField, payloadField, refField}) {
        if (!object.contains(key)) {
            return envelopeError(result, QStringLiteral("missing key \"%1\"").arg(key));
        }
    }
    if (!topic.isString()) {
        return envelopeError(result, QStringLiteral("topic must be a string"));
    }
    if (!object.value(eventField).isString()) {
        return envelopeError(result, QStringLiteral("event must be a string"));
    }
    if (!isRef(ref)) {
        return envelopeError(result, QStringLiteral("ref must be a string or null"));
    }
    if (!joinRef.isUndefined() && !isRef(joinRef)) {
        return envelopeError(result, QStringLiteral("join_ref must be a string or null"));
    }
    result.message.event = object.value(eventField).toString();
    result.message.payload = object.value(payloadField);
    return result;
}

} // namespace

DecodeResult decode(const QByteArray &text, Serializer serializer)
{
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(text, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        DecodeResult result;
        result.error = DecodeResult::InvalidJson;
        result.errorString = QStringLiteral("invalid JSON at offset %1: %2")
                                 .arg(parseError.offset)
                                 .arg(parseError.errorString());
        return result;
    }
    return serializer == Serializer::V2 ? decodeV2(document) : decodeV1(document);
}

QByteArray encode(const Message &message, Serializer serializer, JoinRefKey joinRefKey)
{
    const QJsonValue joinRef
        = message.joinRef.isUndefined() ? QJsonValue(QJsonValue::Null) : message.joinRef;
    const QJsonValue ref = message.ref.isUndefined() ? QJsonValue(QJsonValue::Null) : message.ref;
    const QJsonValue payload
        = message.payload.isUndefined() ? QJsonValue(QJsonObject()) : message.payload;
    if (serializer == Serializer::V2) {
        const QJsonArray array {joinRef, ref, message.topic, message.event, payload};
        return QJsonDocument(array).toJson(QJsonDocument::Compact);
    }
    QJsonObject object {{topicField, message.topic},
                        {eventField, message.event},
                        {payloadField, payload},
                        {refField, ref}};
    if (joinRefKey == JoinRefKey::Include) {
        object.insert(joinRefField, joinRef);
    }
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

std::optional<Serializer> serializerForVsn(const std::optional<QString> &vsn)
{
    if (!vsn) {
        return Serializer::V1;
    }
    if (vsn->startsWith(QLatin1String("2.0."))) {
        return Serializer::V2;
    }
    if (vsn->startsWith(QLatin1String("1.0."))) {
        return Serializer::V1;
    }
    return std::nullopt;
}

} // namespace Omw::Phoenix
