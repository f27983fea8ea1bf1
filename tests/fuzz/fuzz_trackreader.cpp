// Reads a fuzzed recording with one track reader; the build compiles this file once per format
// with OMW_FUZZ_FORMAT set to Nmea, Gpx or OwnTracks. Every fix a reader keeps must carry a
// time and a position in range, because the rider publishes fixes without checking them again.

#include "fuzzsupport.h"
#include "track.h"

#include <QBuffer>

#include <cmath>

using Omw::Rider::TrackFormat;

extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    OmwFuzz::initialize(argc, argv);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    // Format detection reads only the head of a file, but must cope with any head.
    Omw::Rider::detectFormat(bytes.left(4096));

    QBuffer buffer(&bytes);
    buffer.open(QIODevice::ReadOnly);
    QString errorString;
    const std::optional<Omw::Rider::Track> track
        = Omw::Rider::readTrack(&buffer, TrackFormat::OMW_FUZZ_FORMAT, &errorString);
    if (!track) {
        if (errorString.isEmpty()) {
            OmwFuzz::fail("a failed read without an error string");
        }
        return 0;
    }
    for (const Omw::Rider::Fix &fix : track->fixes) {
        const Omw::Position &position = fix.position;
        if (position.timestamp == 0) {
            OmwFuzz::fail("a fix without a time");
        }
        if (!(position.latitude >= -90 && position.latitude <= 90)) {
            OmwFuzz::fail("a fix with a latitude out of range");
        }
        if (!(position.longitude >= -180 && position.longitude <= 180)) {
            OmwFuzz::fail("a fix with a longitude out of range");
        }
        if (!std::isnan(position.heading) && !(position.heading >= 0 && position.heading < 360)) {
            OmwFuzz::fail("a fix with a heading outside [0, 360)");
        }
    }
    return 0;
}
