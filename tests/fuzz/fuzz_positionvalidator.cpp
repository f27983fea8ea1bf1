// Validates fuzzed NEW_COORDS payloads. The input is a JSON document, or any bytes taken as a
// JSON string; both validator modes (with and without --allow-no-fix) see every input. An
// accepted position must be one the protocol allows.

#include "fuzzsupport.h"
#include "positionvalidator.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cmath>

extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    OmwFuzz::initialize(argc, argv);
    return 0;
}

namespace {

// A fixed receive time, 2026-01-01T00:00:00Z, so that runs are reproducible.
constexpr qint64 receivedAt = 1767225600000;

void check(const Omw::PositionValidator &validator, const QJsonValue &payload)
{
    const Omw::ValidationResult result = validator.validate(payload, receivedAt);
    if (!result.isValid()) {
        if (result.message.isEmpty()) {
            OmwFuzz::fail("a rejection without a message");
        }
        return;
    }
    const Omw::Position &position = result.position;
    if (!(position.latitude >= -90 && position.latitude <= 90)) {
        OmwFuzz::fail("accepted latitude out of range");
    }
    if (!(position.longitude >= -180 && position.longitude <= 180)) {
        OmwFuzz::fail("accepted longitude out of range");
    }
    if (position.timestamp < Omw::PositionValidator::earliestTimestamp
        || position.timestamp > receivedAt + validator.options().maxFutureSkew) {
        OmwFuzz::fail("accepted timestamp out of range");
    }
    if (!validator.options().allowNoFix && position.latitude == 0 && position.longitude == 0) {
        OmwFuzz::fail("accepted 0,0 without --allow-no-fix");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(bytes, &error);
    QJsonValue payload;
    if (error.error != QJsonParseError::NoError) {
        payload = QString::fromUtf8(bytes);
    } else if (document.isObject()) {
        payload = document.object();
    } else {
        payload = document.array();
    }

    static const Omw::PositionValidator strict;
    static const Omw::PositionValidator lenient(
        Omw::PositionValidator::Options {true, 5 * 60 * 1000});
    check(strict, payload);
    check(lenient, payload);
    return 0;
}
