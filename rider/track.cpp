#include "track.h"

#include "gpxreader.h"
#include "nmeareader.h"
#include "owntracksreader.h"

#include <QByteArrayView>
#include <QFile>
#include <QRegularExpression>

#include <cmath>

Q_LOGGING_CATEGORY(lcRider, "omw.rider", QtInfoMsg)

namespace Omw::Rider {

QString formatName(TrackFormat format)
{
    switch (format) {
    case TrackFormat::Nmea:
        return QStringLiteral("NMEA 0183");
    case TrackFormat::Gpx:
        return QStringLiteral("GPX");
    case TrackFormat::OwnTracks:
        return QStringLiteral("OwnTracks");
    case TrackFormat::Unknown:
        break;
    }
    return QStringLiteral("unknown");
}

QStringList TrackQuirks::summary() const
{
    QStringList lines;
    const auto add = [&lines](int count, const QString &text) {
        if (count > 0)
            lines.append(text.arg(count));
    };
    add(badChecksums, QStringLiteral("skipped %1 NMEA sentences with a wrong checksum"));
    add(noFix, QStringLiteral("skipped %1 sentences or points without a fix"));
    add(missingTime, QStringLiteral("skipped %1 points without a time"));
    add(nullIsland, QStringLiteral("skipped %1 fixes at exactly 0,0 (no fix)"));
    add(malformed, QStringLiteral("skipped %1 lines or points that could not be parsed"));
    add(otherRecords, QStringLiteral("skipped %1 OwnTracks records that are not locations"));
    add(unknownSpeed,
        QStringLiteral("%1 fixes have no speed (empty field or -1); they are sent with unknown "
                       "speed"));
    add(unknownHeading,
        QStringLiteral("%1 fixes have no course (empty field or -1); they are sent with unknown "
                       "heading"));
    add(emptySegments, QStringLiteral("ignored %1 empty track segments"));
    if (segments > 1)
        lines.append(QStringLiteral("the track has %1 segments").arg(segments));
    return lines;
}

double normalizedHeading(double degrees)
{
    if (!std::isfinite(degrees) || degrees < 0 || degrees > 360)
        return Position::unknown;
    return degrees == 360 ? 0.0 : degrees;
}

TrackFormat detectFormat(const QByteArray &head)
{
    QByteArrayView text(head);
    if (text.startsWith("\xEF\xBB\xBF"))
        text = text.sliced(3);
    const QByteArray trimmed = text.trimmed().toByteArray();
    if (trimmed.startsWith('<')) {
        return trimmed.contains("<gpx") ? TrackFormat::Gpx : TrackFormat::Unknown;
    }
    static const QRegularExpression nmeaSentence(QStringLiteral("^[$!][A-Z]{4,6},"));
    static const QRegularExpression recorderLine(
        QStringLiteral("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ?\\t[^\\t]*\\t\\{"));
    const QList<QByteArray> lines = trimmed.split('\n');
    for (const QByteArray &rawLine : lines) {
        const QByteArray line = rawLine.trimmed();
        if (line.isEmpty() || line.startsWith('#'))
            continue;
        const QString lineText = QString::fromUtf8(line);
        if (nmeaSentence.match(lineText).hasMatch())
            return TrackFormat::Nmea;
        if (recorderLine.match(lineText).hasMatch()
            || (line.startsWith('{') && line.contains("\"_type\"")))
            return TrackFormat::OwnTracks;
        return TrackFormat::Unknown;
    }
    return TrackFormat::Unknown;
}

std::optional<Track> readTrack(QIODevice *device, TrackFormat format, QString *errorString)
{
    switch (format) {
    case TrackFormat::Nmea:
        return NmeaReader::read(device);
    case TrackFormat::Gpx:
        return GpxReader::read(device, errorString);
    case TrackFormat::OwnTracks:
        return OwnTracksReader::read(device);
    case TrackFormat::Unknown:
        break;
    }
    *errorString = QStringLiteral("unknown track format");
    return std::nullopt;
}

std::optional<Track> readTrackFile(const QString &path, QString *errorString)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *errorString = QStringLiteral("cannot open %1: %2").arg(path, file.errorString());
        return std::nullopt;
    }
    // 64 KiB contains the first lines of any of the formats, even a GPX header with long
    // namespace declarations.
    const TrackFormat format = detectFormat(file.peek(64 * 1024));
    if (format == TrackFormat::Unknown) {
        *errorString = QStringLiteral("cannot tell the format of %1: expected NMEA 0183 "
                                      "sentences, a GPX document or OwnTracks recorder lines")
                           .arg(path);
        return std::nullopt;
    }
    QString readError;
    std::optional<Track> track = readTrack(&file, format, &readError);
    if (!track) {
        *errorString
            = QStringLiteral("cannot read %1 as %2: %3").arg(path, formatName(format), readError);
        return std::nullopt;
    }
    if (track->fixes.isEmpty()) {
        *errorString = QStringLiteral("%1 (%2) contains no fix with a position and a time")
                           .arg(path, formatName(format));
        return std::nullopt;
    }
    qCInfo(lcRider).noquote() << "read" << track->fixes.size() << "fixes from" << path << "as"
                              << formatName(format);
    return track;
}

} // namespace Omw::Rider
