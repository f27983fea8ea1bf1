#pragma once

#include "position.h"

#include <QList>
#include <QLoggingCategory>
#include <QString>
#include <QStringList>

#include <optional>

QT_BEGIN_NAMESPACE
class QByteArray;
class QIODevice;
QT_END_NAMESPACE

Q_DECLARE_LOGGING_CATEGORY(lcRider)

namespace Omw::Rider {

enum class TrackFormat {
    Unknown,
    Nmea, // NMEA 0183 sentences, one per line
    Gpx, // GPX 1.0 or 1.1 track
    OwnTracks, // OwnTracks recorder .rec lines, or bare OwnTracks JSON lines
};

QString formatName(TrackFormat format);

// One recorded fix. `position.timestamp` is the recorded time (UTC epoch milliseconds), never 0:
// readers skip points without a time.
struct Fix
{
    Position position;
    int segment = 0; // GPX track segment counted across the file, from 0; 0 elsewhere
};

// How often each imperfection of a recording was met while reading it, so that the rider gets
// one summary line per kind instead of one line per fix.
struct TrackQuirks
{
    int badChecksums = 0; // NMEA sentences dropped because their checksum does not match
    int noFix = 0; // sentences or points without a fix (RMC status V, GPX <fix>none), skipped
    int missingTime = 0; // points without a usable time, skipped
    int unknownSpeed = 0; // fixes kept without speed: empty field, or -1 (OwnTracks)
    int unknownHeading = 0; // fixes kept without course: empty field, or -1 (OwnTracks)
    int nullIsland = 0; // fixes at exactly 0,0, skipped
    int malformed = 0; // lines, sentences or points that could not be parsed, skipped
    int otherRecords = 0; // OwnTracks records that are not locations (lwt, transition, ...)
    int emptySegments = 0; // GPX track segments without any point
    int segments = 0; // GPX track segments with at least one kept fix

    // One line per kind that occurred, in plain words, for standard error.
    QStringList summary() const;
};

struct Track
{
    TrackFormat format = TrackFormat::Unknown;
    QList<Fix> fixes;
    TrackQuirks quirks;
};

// Tells the format from the first bytes of a file (a few kilobytes are enough): an XML document
// with a <gpx> root, lines that are NMEA sentences, or lines that carry OwnTracks JSON.
// Comment lines (`#`) and blank lines are skipped.
TrackFormat detectFormat(const QByteArray &head);

// Reads a whole track from `device` in the given format. Returns nothing and sets `errorString`
// when the input cannot be read at all (for instance a GPX file that is not well-formed XML).
std::optional<Track> readTrack(QIODevice *device, TrackFormat format, QString *errorString);
// Opens `path`, detects its format from the content and reads it.
std::optional<Track> readTrackFile(const QString &path, QString *errorString);

// Heading in [0, 360) or unknown: 360 becomes 0, anything else outside the range is unknown.
double normalizedHeading(double degrees);

} // namespace Omw::Rider
