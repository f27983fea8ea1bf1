#include "owntracksreader.h"

#include <QIODevice>
#include <QJsonDocument>
#include <QJsonObject>

#include <cmath>

namespace Omw::Rider {

namespace {

double numberOrUnknown(const QJsonValue &value)
{
    return value.isDouble() && std::isfinite(value.toDouble()) ? value.toDouble()
                                                               : Position::unknown;
}

} // namespace

Track OwnTracksReader::read(QIODevice *device)
{
    OwnTracksReader reader;
    reader.m_track.format = TrackFormat::OwnTracks;
    while (!device->atEnd())
        reader.readLine(device->readLine().trimmed());
    return reader.m_track;
}

void OwnTracksReader::readLine(const QByteArray &line)
{
    if (line.isEmpty() || line.startsWith('#'))
        return;
    TrackQuirks &quirks = m_track.quirks;
    // In a recorder line the JSON starts after the second tab; a bare JSON line starts with it.
    qsizetype jsonStart = 0;
    if (!line.startsWith('{')) {
        const qsizetype firstTab = line.indexOf('\t');
        const qsizetype secondTab = firstTab < 0 ? -1 : line.indexOf('\t', firstTab + 1);
        if (secondTab < 0) {
            ++quirks.malformed;
            return;
        }
        jsonStart = secondTab + 1;
    }
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(line.mid(jsonStart), &parseError);
    if (!document.isObject()) {
        ++quirks.malformed;
        return;
    }
    const QJsonObject record = document.object();
    if (record.value(QLatin1String("_type")).toString() != QLatin1String("location")) {
        ++quirks.otherRecords;
        return;
    }
    Position position;
    position.latitude = numberOrUnknown(record.value(QLatin1String("lat")));
    position.longitude = numberOrUnknown(record.value(QLatin1String("lon")));
    if (std::isnan(position.latitude) || std::isnan(position.longitude)
        || std::abs(position.latitude) > 90 || std::abs(position.longitude) > 180) {
        ++quirks.malformed;
        return;
    }
    // The apps send `tst` as a number; some records carry it as a numeric string.
    const QJsonValue tst = record.value(QLatin1String("tst"));
    bool timeOk = tst.isDouble();
    double seconds = tst.toDouble();
    if (tst.isString())
        seconds = tst.toString().toDouble(&timeOk);
    if (!timeOk || !std::isfinite(seconds) || seconds <= 0) {
        ++quirks.missingTime;
        return;
    }
    if (position.latitude == 0 && position.longitude == 0) {
        ++quirks.nullIsland;
        return;
    }
    position.timestamp = qint64(std::llround(seconds * 1000));
    const double kmh = numberOrUnknown(record.value(QLatin1String("vel")));
    position.speed = kmh >= 0 ? kmh * metresPerSecondPerKmh : Position::unknown;
    const double cog = numberOrUnknown(record.value(QLatin1String("cog")));
    position.heading = cog >= 0 ? normalizedHeading(cog) : Position::unknown;
    const double accuracy = numberOrUnknown(record.value(QLatin1String("acc")));
    position.accuracy = accuracy >= 0 ? accuracy : Position::unknown;
    position.altitude = numberOrUnknown(record.value(QLatin1String("alt")));
    if (!position.hasSpeed())
        ++quirks.unknownSpeed;
    if (!position.hasHeading())
        ++quirks.unknownHeading;
    m_track.fixes.append({position, 0});
}

} // namespace Omw::Rider
