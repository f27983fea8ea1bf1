#include "nmeareader.h"

#include <QDateTime>
#include <QIODevice>

#include <cmath>

namespace Omw::Rider {

namespace {

// Parses a number field; an empty or malformed field gives NaN.
double number(const QByteArray &field)
{
    bool ok = false;
    const double value = field.toDouble(&ok);
    return ok ? value : Position::unknown;
}

// Parses `ddmm.mmmm` or `dddmm.mmmm` with its hemisphere letter into signed degrees.
double coordinate(const QByteArray &value, const QByteArray &hemisphere, double limit)
{
    const double raw = number(value);
    if (std::isnan(raw) || raw < 0)
        return Position::unknown;
    const double degrees = std::floor(raw / 100);
    const double minutes = raw - degrees * 100;
    if (minutes >= 60)
        return Position::unknown;
    double result = degrees + minutes / 60;
    if (hemisphere == "S" || hemisphere == "W")
        result = -result;
    else if (hemisphere != "N" && hemisphere != "E")
        return Position::unknown;
    return std::abs(result) <= limit ? result : Position::unknown;
}

// Parses `hhmmss[.sss]` into a time of day.
QTime timeOfDay(const QByteArray &field)
{
    if (field.size() < 6)
        return {};
    const int hours = field.left(2).toInt();
    const int minutes = field.mid(2, 2).toInt();
    const double seconds = number(field.mid(4));
    if (std::isnan(seconds))
        return {};
    const int wholeSeconds = int(seconds);
    const int milliseconds = int(std::lround((seconds - wholeSeconds) * 1000));
    return QTime(hours, minutes, wholeSeconds, std::min(milliseconds, 999));
}

// Parses `ddmmyy`. Two-digit years from 80 on are 1980-1999, as GPS receivers began then.
QDate date(const QByteArray &field)
{
    if (field.size() != 6)
        return {};
    const int year = field.mid(4, 2).toInt();
    return QDate(year >= 80 ? 1900 + year : 2000 + year, field.mid(2, 2).toInt(),
                 field.left(2).toInt());
}

} // namespace

bool NmeaReader::hasValidChecksum(QByteArrayView sentence)
{
    const qsizetype star = sentence.lastIndexOf('*');
    if (star < 0)
        return true;
    if (sentence.size() < star + 3)
        return false;
    bool ok = false;
    const uint expected = sentence.sliced(star + 1, 2).toByteArray().toUInt(&ok, 16);
    if (!ok)
        return false;
    uint sum = 0;
    for (qsizetype i = 1; i < star; ++i)
        sum ^= uchar(sentence.at(i));
    return sum == expected;
}

Track NmeaReader::read(QIODevice *device)
{
    NmeaReader reader;
    reader.m_track.format = TrackFormat::Nmea;
    while (!device->atEnd())
        reader.readLine(device->readLine());
    return reader.m_track;
}

void NmeaReader::readLine(QByteArray line)
{
    line = line.trimmed();
    if (line.isEmpty() || line.startsWith('#'))
        return;
    if (!line.startsWith('$') || line.size() < 7) {
        ++m_track.quirks.malformed;
        return;
    }
    if (!hasValidChecksum(line)) {
        ++m_track.quirks.badChecksums;
        return;
    }
    const qsizetype star = line.lastIndexOf('*');
    const QByteArray body = line.mid(1, star < 0 ? -1 : star - 1);
    const QList<QByteArray> fields = body.split(',');
    const QByteArray &address = fields.first();
    if (address.size() != 5 || address.startsWith('P'))
        return; // proprietary or unknown sentence
    const QByteArray type = address.right(3);
    if (type == "RMC")
        readRmc(fields);
    else if (type == "GGA")
        readGga(fields);
    else if (type == "GST")
        readGst(fields);
}

void NmeaReader::startEpoch(const QByteArray &time)
{
    if (time == m_epochTime)
        return;
    m_epochTime = time;
    m_epochFix = -1;
    m_epochAltitude = Position::unknown;
    m_epochAccuracy = Position::unknown;
}

void NmeaReader::readRmc(const QList<QByteArray> &fields)
{
    // $--RMC,time,status,lat,N/S,lon,E/W,speed,course,date,magvar,E/W[,mode[,navstatus]]
    if (fields.size() < 10) {
        ++m_track.quirks.malformed;
        return;
    }
    const bool modeIsNoFix = fields.size() > 12 && fields.at(12) == "N";
    if (fields.at(2) != "A" || modeIsNoFix) {
        ++m_track.quirks.noFix;
        return;
    }
    const QTime time = timeOfDay(fields.at(1));
    const QDate day = date(fields.at(9));
    if (!time.isValid() || !day.isValid()) {
        ++m_track.quirks.missingTime;
        return;
    }
    Position position;
    position.latitude = coordinate(fields.at(3), fields.at(4), 90);
    position.longitude = coordinate(fields.at(5), fields.at(6), 180);
    if (std::isnan(position.latitude) || std::isnan(position.longitude)) {
        ++m_track.quirks.malformed;
        return;
    }
    if (position.latitude == 0 && position.longitude == 0) {
        ++m_track.quirks.nullIsland;
        return;
    }
    position.timestamp = QDateTime(day, time, Qt::UTC).toMSecsSinceEpoch();
    const double knots = number(fields.at(7));
    position.speed = knots >= 0 ? knots * metresPerSecondPerKnot : Position::unknown;
    position.heading = normalizedHeading(number(fields.at(8)));
    if (!position.hasSpeed())
        ++m_track.quirks.unknownSpeed;
    if (!position.hasHeading())
        ++m_track.quirks.unknownHeading;

    startEpoch(fields.at(1));
    position.altitude = m_epochAltitude;
    position.accuracy = m_epochAccuracy;
    m_epochFix = int(m_track.fixes.size());
    m_track.fixes.append({position, 0});
}

void NmeaReader::readGga(const QList<QByteArray> &fields)
{
    // $--GGA,time,lat,N/S,lon,E/W,quality,satellites,hdop,altitude,M,separation,M,age,station
    if (fields.size() < 10)
        return;
    // Quality 0 means no fix. An empty quality field (some u-blox firmware) is read as unknown,
    // and the altitude is used anyway.
    if (fields.at(6) == "0")
        return;
    startEpoch(fields.at(1));
    m_epochAltitude = number(fields.at(9));
    if (m_epochFix >= 0)
        m_track.fixes[m_epochFix].position.altitude = m_epochAltitude;
}

void NmeaReader::readGst(const QList<QByteArray> &fields)
{
    // $--GST,time,rms,major,minor,orientation,lat-sigma,lon-sigma,alt-sigma
    if (fields.size() < 8)
        return;
    const double latitudeError = number(fields.at(6));
    const double longitudeError = number(fields.at(7));
    if (std::isnan(latitudeError) || std::isnan(longitudeError))
        return;
    startEpoch(fields.at(1));
    m_epochAccuracy = std::hypot(latitudeError, longitudeError);
    if (m_epochFix >= 0)
        m_track.fixes[m_epochFix].position.accuracy = m_epochAccuracy;
}

} // namespace Omw::Rider
