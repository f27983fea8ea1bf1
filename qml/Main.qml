import QtQuick
import QtQuick.Controls
import QtQuick.Controls.Material
import QtQuick.Layouts
import Omw.Console.Core

// The console window: the map with the rides on it, and the ride list beside it.
ApplicationWindow {
    id: root

    required property ConsoleController controller

    // Whether the map keeps the selected ride in its centre; a hand-made map move ends it.
    property bool followSelected: true
    // Counts ride updates. With the ride count it makes the label layout follow moves,
    // additions and removals.
    property int rideRevision: 0
    // Label offsets by mnemonic, so that labels of nearby rides do not cover each other.
    readonly property var labelOffsets: root.layoutLabels(map.center, map.zoom, map.width,
                                                          map.height,
                                                          root.rideRevision + root.rides.count)
    readonly property RideModel rides: root.controller.rides
    readonly property RideTracker tracker: root.controller.tracker

    function centerOnSelected() {
        const coordinate = root.rides.coordinateOf(root.rides.selectedSlug)
        if (coordinate.isValid)
            map.center = coordinate
    }
    function selectRide(slug: string) {
        root.rides.selectedSlug = slug
        root.followSelected = true
        if (map.zoom < 13)
            map.zoom = 15
        root.centerOnSelected()
    }
    // Places each label right of its marker, or below, above or left of it when that spot is
    // taken; the selected ride is placed first. Label sizes are estimates from the mnemonic.
    function layoutLabels(center: var, zoom: real, width: real, height: real, revision: int): var {
        const selected = root.rides.selectedSlug
        const slugs = root.rides.slugs().sort((a, b) => (b === selected) - (a === selected))
        const placed = []
        const offsets = {}
        for (const slug of slugs) {
            const coordinate = root.rides.coordinateOf(slug)
            if (!coordinate.isValid)
                continue
            const point = WebMercator.toView(coordinate, center, zoom, width, height)
            const labelWidth = slug.length * 8 + 20
            const candidates = [Qt.point(0, 0), Qt.point(0, 34), Qt.point(0, -34),
                                Qt.point(-labelWidth - 34, 0)]
            // When every spot is taken the label stays right of its marker.
            let chosen = candidates[0]
            for (const candidate of candidates) {
                const rect = Qt.rect(point.x + 17 + candidate.x, point.y - 18 + candidate.y,
                                     labelWidth, 36)
                const free = placed.every((other) => rect.x + rect.width <= other.x
                                          || other.x + other.width <= rect.x
                                          || rect.y + rect.height <= other.y
                                          || other.y + other.height <= rect.y)
                if (free) {
                    chosen = candidate
                    break
                }
            }
            placed.push(Qt.rect(point.x + 17 + chosen.x, point.y - 18 + chosen.y, labelWidth, 36))
            offsets[slug] = chosen
        }
        return offsets
    }
    function fitAll() {
        root.followSelected = false
        map.fit(root.rides.coordinates(), 80, 16)
    }

    Material.theme: Material.Light
    Material.accent: Theme.accent
    Material.primary: Theme.accent
    width: 1280
    height: 800
    minimumWidth: 800
    minimumHeight: 500
    visible: true
    title: root.rides.selectedSlug.length > 0 ? qsTr("%1 — Omw Console").arg(root.rides.selectedSlug)
                                              : qsTr("Omw Console")

    Component.onCompleted: {
        map.center = root.controller.settings.mapCenter
        map.zoom = root.controller.settings.mapZoom
    }
    onClosing: {
        root.controller.settings.mapCenter = map.center
        root.controller.settings.mapZoom = map.zoom
    }

    Connections {
        target: root.rides
        function onFirstFixArrived(slug: string) {
            if (root.rides.selectedSlug.length === 0 || !root.rides.coordinateOf(root.rides.selectedSlug).isValid)
                root.selectRide(slug)
        }
        function onTrailsChanged() {
            root.rideRevision += 1
            if (root.followSelected)
                root.centerOnSelected()
        }
    }

    RowLayout {
        anchors.fill: parent
        spacing: 0

        TiledMap {
            id: map
            objectName: "map"
            Layout.fillWidth: true
            Layout.fillHeight: true
            tileSource: root.controller.tileSource
            onUserMoved: root.followSelected = false

            TrailLayer {
                anchors.fill: parent
                model: root.rides
                center: map.center
                zoom: map.zoom
                stateColors: Theme.stateColors
            }

            // Labels first, then the icons above every label.
            Repeater {
                model: root.rides
                // Qt 6.4's linter reports ids of the enclosing file as unqualified inside a
                // delegate; the lookups are valid at run time.
                delegate: RideMarker {
                    id: label
                    required property var coordinate
                    objectName: "label:" + label.slug
                    iconVisible: false
                    position: map.toView(label.coordinate) // qmllint disable unqualified
                    labelOffset: root.labelOffsets[label.slug] ?? Qt.point(0, 0) // qmllint disable unqualified
                }
            }
            Repeater {
                model: root.rides
                delegate: RideMarker {
                    id: marker
                    required property var coordinate
                    z: marker.selected ? 11 : 10
                    labelVisible: false
                    position: map.toView(marker.coordinate) // qmllint disable unqualified
                    onClicked: root.selectRide(marker.slug) // qmllint disable unqualified
                }
            }

            ConnectionIndicator {
                anchors.left: parent.left
                anchors.top: parent.top
                anchors.margins: 12
                connectionState: root.tracker.connectionState
                dispatchState: root.tracker.dispatchState
                serverUrl: root.controller.serverUrl
                reconnectAttempt: root.tracker.reconnectAttempt
            }

            MapControls {
                anchors.right: parent.right
                anchors.top: parent.top
                anchors.margins: 12
                onZoomInRequested: map.zoomBy(1)
                onZoomOutRequested: map.zoomBy(-1)
                onFitAllRequested: root.fitAll()
            }

            ScaleBar {
                anchors.left: parent.left
                anchors.bottom: parent.bottom
                anchors.margins: 10
                latitude: map.center.latitude
                zoom: map.zoom
            }

            MapAttribution {
                anchors.right: parent.right
                anchors.bottom: parent.bottom
                attribution: root.controller.tileSource ? root.controller.tileSource.attribution : ""
            }

            Rectangle {
                id: messageBanner
                objectName: "message"
                anchors.horizontalCenter: parent.horizontalCenter
                anchors.top: parent.top
                anchors.topMargin: 56
                width: Math.min(parent.width - 40, messageText.implicitWidth + 50)
                height: messageText.implicitHeight + 16
                radius: Theme.radius
                color: "#fce8e6"
                border.color: Theme.danger
                visible: root.controller.message.length > 0

                Text {
                    id: messageText
                    anchors.left: parent.left
                    anchors.right: closeMessage.left
                    anchors.verticalCenter: parent.verticalCenter
                    anchors.leftMargin: 12
                    text: root.controller.message
                    wrapMode: Text.WordWrap
                    color: Theme.danger
                    font.pixelSize: Theme.fontNormal
                }
                ToolButton {
                    id: closeMessage
                    anchors.right: parent.right
                    anchors.verticalCenter: parent.verticalCenter
                    text: "×"
                    onClicked: root.controller.clearMessage()
                }
            }
        }

        Rectangle {
            Layout.fillHeight: true
            Layout.preferredWidth: 1
            color: Theme.divider
        }

        Pane {
            id: sidePanel
            Layout.fillHeight: true
            Layout.preferredWidth: 360
            padding: 0
            background: Rectangle { color: Theme.panel }

            ColumnLayout {
                anchors.fill: parent
                spacing: 0

                RowLayout {
                    Layout.fillWidth: true
                    Layout.margins: 14
                    Layout.bottomMargin: 6

                    Column {
                        Layout.fillWidth: true
                        Label {
                            text: qsTr("Omw Console")
                            font.pixelSize: 20
                            font.bold: true
                            color: Theme.text
                        }
                        Label {
                            text: qsTr("Live rides · times in %1").arg(Qt.formatDateTime(new Date(), "t"))
                            font.pixelSize: Theme.fontSmall
                            color: Theme.textMuted
                        }
                    }
                    ToolButton {
                        objectName: "settingsButton"
                        text: "⚙"
                        font.pixelSize: 18
                        ToolTip.visible: hovered
                        ToolTip.text: qsTr("Settings")
                        onClicked: settingsDialog.open()
                    }
                }

                FollowBar {
                    Layout.fillWidth: true
                    Layout.leftMargin: 14
                    Layout.rightMargin: 14
                    Layout.bottomMargin: 10
                    onFollowRequested: (text) => {
                        const slug = root.controller.follow(text)
                        if (slug.length > 0)
                            root.selectRide(slug)
                    }
                }

                Rectangle {
                    Layout.fillWidth: true
                    implicitHeight: listHeader.implicitHeight + 12
                    color: Theme.panelAlt

                    RowLayout {
                        id: listHeader
                        anchors.fill: parent
                        anchors.leftMargin: 14
                        anchors.rightMargin: 8

                        Label {
                            Layout.fillWidth: true
                            text: qsTr("Rides (%1)").arg(root.rides.count)
                            font.bold: true
                            color: Theme.textMuted
                        }
                        Button {
                            objectName: "fitAllButton"
                            flat: true
                            text: qsTr("Fit all")
                            enabled: root.rides.count > 0
                            onClicked: root.fitAll()
                        }
                    }
                }

                RideList {
                    objectName: "rideList"
                    Layout.fillWidth: true
                    Layout.fillHeight: true
                    rides: root.rides
                    onRideActivated: (slug) => root.selectRide(slug)
                    onRemoveRequested: (slug) => root.controller.forget(slug)
                }
            }
        }
    }

    SettingsDialog {
        id: settingsDialog
        anchors.centerIn: parent
        controller: root.controller
    }
}
