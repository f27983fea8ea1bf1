#pragma once

#include "positionvalidator.h"

#include <QByteArray>
#include <QHash>
#include <QMap>

#include <array>

namespace Omw {

class SessionManager;

// Counters of the server, exposed at GET /metrics in the Prometheus text format (version 0.0.4).
// Gauges (connections, channels, rides) are read from the live objects when scraped.
struct Metrics
{
    enum ChannelKind { Onboarding, Tracking, Following, Dispatch, ChannelKindCount };

    quint64 connectionsAccepted = 0;
    quint64 connectionsRejected = 0; // over --max-connections, bad vsn, Origin not allowed
    quint64 framesReceived = 0;
    quint64 framesSent = 0;
    quint64 bytesSent = 0;
    quint64 heartbeats = 0;
    quint64 positionsAccepted = 0;
    quint64 positionsRepeated = 0; // exact repeats acknowledged and not broadcast
    QMap<Rejection, quint64> positionsRejected;
    QMap<int, quint64> closesByCode; // every closed connection, by its close code
    quint64 slowFollowersDisconnected = 0;
    quint64 ridesStarted = 0;
    QMap<QString, quint64> ridesEnded; // by end reason
    quint64 followJoinsRateLimited = 0;
    quint64 messagesRateLimited = 0;
    quint64 httpRequests = 0;
    quint64 acceptErrors = 0; // accept() failures, such as running out of file descriptors

    std::array<qint64, ChannelKindCount> channels {}; // joined channels right now, by kind
    qint64 connections = 0; // open WebSocket connections right now

    QByteArray toPrometheus(const SessionManager &sessions) const;
};

QString channelKindName(Metrics::ChannelKind kind);

} // namespace Omw
