import QtQuick
import QtQuick.Shapes
import Omw.Console.Core

// One ride on the map: an arrow turned to the heading while moving, a dot when stationary, a
// ring with a question mark when the heading is unknown; the mnemonic, speed and age beside
// it. The item's centre is the ride's position.
Item {
    id: root

    required property string slug
    required property int rideState
    required property int marker
    required property real heading
    required property string speedText
    required property string ageText
    required property bool selected
    // The ride's position in the parent's coordinates.
    required property point position

    // The console draws icons and labels in two layers, so that no label hides a marker.
    property bool iconVisible: true
    property bool labelVisible: true
    // Where the label goes, relative to its place right of the marker.
    property point labelOffset: Qt.point(0, 0)
    readonly property color color: Theme.stateColor(root.rideState)
    readonly property bool dimmed: root.rideState === RideModel.Ended

    signal clicked()

    objectName: "marker:" + root.slug
    width: 30
    height: 30
    x: root.position.x - width / 2
    y: root.position.y - height / 2
    z: root.selected ? 2 : 1
    visible: root.marker !== RideModel.NoMarker && !isNaN(root.position.x)
    opacity: root.dimmed ? 0.7 : 1

    Rectangle {
        id: halo
        anchors.centerIn: parent
        width: 48
        height: 48
        radius: 24
        color: root.color
        opacity: 0.22
        visible: root.selected && root.iconVisible
    }

    Shape {
        id: arrow
        objectName: "headingArrow"
        anchors.fill: parent
        visible: root.marker === RideModel.HeadingMarker && root.iconVisible
        rotation: isNaN(root.heading) ? 0 : root.heading

        ShapePath {
            strokeColor: "white"
            strokeWidth: 2.5
            fillColor: root.color
            joinStyle: ShapePath.RoundJoin
            startX: 15; startY: 2
            PathLine { x: 27; y: 27 }
            PathLine { x: 15; y: 21 }
            PathLine { x: 3; y: 27 }
            PathLine { x: 15; y: 2 }
        }
    }

    Rectangle {
        id: stationaryDot
        objectName: "stationaryDot"
        anchors.centerIn: parent
        width: 20
        height: 20
        radius: 10
        color: root.color
        border.color: "white"
        border.width: 3
        visible: root.marker === RideModel.StationaryMarker && root.iconVisible

        Rectangle {
            anchors.centerIn: parent
            width: 6
            height: 6
            radius: 3
            color: "white"
        }
    }

    Rectangle {
        id: unknownHeading
        objectName: "unknownHeadingRing"
        anchors.centerIn: parent
        width: 24
        height: 24
        radius: 12
        color: "white"
        border.color: root.color
        border.width: 4
        visible: root.marker === RideModel.UnknownHeadingMarker && root.iconVisible

        Text {
            anchors.centerIn: parent
            text: "?"
            color: root.color
            font.pixelSize: 13
            font.bold: true
        }
    }

    Rectangle {
        id: label
        objectName: "markerLabel"
        x: root.width + 2 + root.labelOffset.x
        y: (root.height - height) / 2 + root.labelOffset.y
        width: labelColumn.implicitWidth + 14
        height: labelColumn.implicitHeight + 8
        radius: 4
        color: root.selected ? root.color : Qt.rgba(1, 1, 1, 0.92)
        border.color: Qt.darker(root.color, 1.1)
        border.width: root.selected ? 0 : 1
        visible: root.labelVisible

        Column {
            id: labelColumn
            anchors.centerIn: parent
            spacing: 0

            Text {
                text: root.slug
                font.pixelSize: Theme.fontNormal
                font.bold: true
                color: root.selected ? "white" : Theme.text
            }
            Text {
                text: (root.rideState === RideModel.Live && root.speedText !== "–"
                       ? root.speedText : Theme.stateLabel(root.rideState)) + " · " + root.ageText
                font.pixelSize: Theme.fontSmall
                color: root.selected ? "white" : Theme.textMuted
            }
        }
    }

    TapHandler {
        enabled: root.iconVisible
        onTapped: root.clicked()
    }
}
