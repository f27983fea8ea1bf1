#include "gpxreader.h"

#include <QDateTime>
#include <QIODevice>
#include <QXmlStreamReader>

#include <cmath>

namespace Omw::Rider {

namespace {

double number(QStringView text)
{
    bool ok = false;
    const double value = text.trimmed().toDouble(&ok);
    return ok && std::isfinite(value) ? value : Position::unknown;
}

} // namespace

std::optional<Track> GpxReader::read(QIODevice *device, QString *errorString)
{
    GpxReader reader;
    reader.m_track.format = TrackFormat::Gpx;
    QXmlStreamReader xml(device);
    int segment = -1;
    int pointsInSegment = 0; // every <trkpt>, kept or skipped
    int keptInSegment = 0;
    bool sawRoot = false;
    while (!xml.atEnd()) {
        const QXmlStreamReader::TokenType token = xml.readNext();
        if (token == QXmlStreamReader::StartElement) {
            const QStringView name = xml.name();
            if (!sawRoot) {
                if (name != u"gpx") {
                    *errorString = QStringLiteral("the root element is <%1>, not <gpx>")
                                       .arg(name.toString());
                    return std::nullopt;
                }
                sawRoot = true;
            } else if (name == u"trkseg") {
                ++segment;
                pointsInSegment = 0;
                keptInSegment = 0;
            } else if (name == u"trkpt") {
                const qsizetype before = reader.m_track.fixes.size();
                reader.readPoint(xml, std::max(segment, 0));
                ++pointsInSegment;
                if (reader.m_track.fixes.size() > before)
                    ++keptInSegment;
            }
        } else if (token == QXmlStreamReader::EndElement && xml.name() == u"trkseg") {
            if (keptInSegment > 0)
                ++reader.m_track.quirks.segments;
            else if (pointsInSegment == 0)
                ++reader.m_track.quirks.emptySegments;
        }
    }
    if (xml.hasError()) {
        *errorString = QStringLiteral("line %1, column %2: %3")
                           .arg(xml.lineNumber())
                           .arg(xml.columnNumber())
                           .arg(xml.errorString());
        return std::nullopt;
    }
    // A GPX 1.0 track may have points outside any <trkseg> in broken writers; they form one
    // segment of their own.
    if (segment < 0 && !reader.m_track.fixes.isEmpty())
        reader.m_track.quirks.segments = 1;
    return reader.m_track;
}

void GpxReader::readPoint(QXmlStreamReader &xml, int segment)
{
    Position position;
    const QXmlStreamAttributes attributes = xml.attributes();
    position.latitude = number(attributes.value(QLatin1String("lat")));
    position.longitude = number(attributes.value(QLatin1String("lon")));
    QString time;
    QString fix;
    // Reads the children of <trkpt>, including extension elements nested deeper.
    int depth = 1;
    while (depth > 0 && !xml.atEnd()) {
        const QXmlStreamReader::TokenType token = xml.readNext();
        if (token == QXmlStreamReader::EndElement) {
            --depth;
            continue;
        }
        if (token != QXmlStreamReader::StartElement)
            continue;
        const QStringView name = xml.name();
        if (name == u"ele") {
            position.altitude = number(xml.readElementText());
        } else if (name == u"time") {
            time = xml.readElementText();
        } else if (name == u"speed") {
            position.speed = number(xml.readElementText());
        } else if (name == u"course") {
            position.heading = number(xml.readElementText());
        } else if (name == u"fix") {
            fix = xml.readElementText().trimmed();
        } else {
            ++depth;
        }
    }
    if (xml.hasError())
        return;

    TrackQuirks &quirks = m_track.quirks;
    if (std::isnan(position.latitude) || std::isnan(position.longitude)
        || std::abs(position.latitude) > 90 || std::abs(position.longitude) > 180) {
        ++quirks.malformed;
        return;
    }
    if (fix == QLatin1String("none")) {
        ++quirks.noFix;
        return;
    }
    const QDateTime dateTime = QDateTime::fromString(time.trimmed(), Qt::ISODateWithMs);
    if (!dateTime.isValid()) {
        ++quirks.missingTime;
        return;
    }
    if (position.latitude == 0 && position.longitude == 0) {
        ++quirks.nullIsland;
        return;
    }
    position.timestamp = dateTime.toMSecsSinceEpoch();
    if (position.hasSpeed() && position.speed < 0)
        position.speed = Position::unknown;
    position.heading = normalizedHeading(position.heading);
    m_track.fixes.append({position, segment});
}

} // namespace Omw::Rider
