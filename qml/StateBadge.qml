import QtQuick

// A small coloured pill naming a ride's state (a RideModel.State).
Rectangle {
    id: root

    required property int rideState

    implicitWidth: label.implicitWidth + 14
    implicitHeight: label.implicitHeight + 4
    radius: height / 2
    color: Qt.rgba(badgeColor.r, badgeColor.g, badgeColor.b, 0.14)

    readonly property color badgeColor: Theme.stateColor(root.rideState)

    Text {
        id: label
        anchors.centerIn: parent
        text: Theme.stateLabel(root.rideState)
        color: root.badgeColor
        font.pixelSize: Theme.fontSmall
        font.bold: true
    }
}
