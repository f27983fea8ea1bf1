#pragma once

#include <QString>
#include <QStringList>
#include <QUrl>

#include <optional>

namespace Omw::Rider {

// The command line of omw-rider.
struct RiderOptions
{
    QUrl server = QUrl(QStringLiteral("ws://127.0.0.1:4000/socket"));
    double speedup = 1.0;
    bool loop = false;
    bool originalTimes = false;
    qint64 maxPause = 60'000; // milliseconds of recording time
    QString slug;
    QString token;
    QString file; // a recorded track, or empty with device or system
    QString device; // a live NMEA receiver
    int baudRate = 9600;
    bool system = false; // the system's default position source
    bool verbose = false; // log connection and replay details on standard error
};

struct ParsedArguments
{
    std::optional<RiderOptions> options; // empty when help, version or an error is the output
    QString output; // help or version text for standard output
    QString errorString; // a usage error for standard error
};

// Parses `arguments` (the first element is the program name).
ParsedArguments parseRiderArguments(const QStringList &arguments);

} // namespace Omw::Rider
