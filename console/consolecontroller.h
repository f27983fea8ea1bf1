#pragma once

#include "consoleoptions.h"
#include "consolesettings.h"
#include "ridemodel.h"
#include "ridetracker.h"
#include "tilesource.h"

#include <QLoggingCategory>
#include <QObject>
#include <QtQml/qqmlregistration.h>

Q_DECLARE_LOGGING_CATEGORY(lcConsole)

namespace Omw {

// The console's application state for QML: settings, the ride model, the tracker that feeds
// it and the map's tile source. Command-line options override the saved settings for the run;
// what the dispatcher changes in the window (followed rides, server, tiles, units) is saved.
class ConsoleController : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("omw-console creates the controller")
    Q_PROPERTY(Omw::RideModel *rides READ rides CONSTANT)
    Q_PROPERTY(Omw::RideTracker *tracker READ tracker CONSTANT)
    Q_PROPERTY(Omw::ConsoleSettings *settings READ settings CONSTANT)
    Q_PROPERTY(Omw::TileSource *tileSource READ tileSource NOTIFY tileSourceChanged)
    Q_PROPERTY(QString tiles READ tiles NOTIFY tileSourceChanged)
    Q_PROPERTY(QString serverUrl READ serverUrl NOTIFY serverUrlChanged)
    Q_PROPERTY(QString version READ version CONSTANT)
    Q_PROPERTY(QString message READ message NOTIFY messageChanged)

public:
    explicit ConsoleController(const ConsoleOptions &options, QObject *parent = nullptr);
    ~ConsoleController() override;

    // Reads the dispatcher token, builds the tile source and starts the tracker. Returns false
    // with `errorString` set when an option cannot be used (the console should then exit).
    bool initialize(QString *errorString);

    RideModel *rides() const { return m_rides; }
    RideTracker *tracker() const { return m_tracker; }
    ConsoleSettings *settings() const { return m_settings; }
    TileSource *tileSource() const { return m_tileSource; }
    QString tiles() const { return m_tiles; }
    QString serverUrl() const { return m_serverUrl; }
    QString version() const;
    // The latest problem worth showing to the dispatcher, empty when none.
    QString message() const { return m_message; }

    // Follows a ride (mnemonic or follow link) and saves it. Returns the mnemonic, or an empty
    // string with `message` set.
    Q_INVOKABLE QString follow(const QString &mnemonicOrLink);
    // Stops following a ride, removes it from the list and from the saved rides.
    Q_INVOKABLE void forget(const QString &slug);
    // Switches to another server and saves it. Returns false with `message` set when invalid.
    Q_INVOKABLE bool useServer(const QString &url);
    // Switches the tile source and saves it. Returns false with `message` set when invalid.
    Q_INVOKABLE bool useTiles(const QString &spec);
    Q_INVOKABLE void clearMessage();

Q_SIGNALS:
    void tileSourceChanged();
    void serverUrlChanged();
    void messageChanged();

private:
    bool createTileSource(const QString &spec, QString *errorString);
    void saveFollowedRides();
    void setMessage(const QString &message);

    ConsoleOptions m_options;
    ConsoleSettings *m_settings = nullptr;
    RideModel *m_rides = nullptr;
    RideTracker *m_tracker = nullptr;
    TileSource *m_tileSource = nullptr;
    QString m_tiles;
    QString m_serverUrl;
    QString m_message;
};

} // namespace Omw
