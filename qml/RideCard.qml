import QtQuick
import QtQuick.Layouts
import QtQuick.Controls

// One row of the ride list: mnemonic and state, then speed, heading, last update, distance.
Rectangle {
    id: root

    required property int index
    required property string slug
    required property int rideState
    required property string speedText
    required property string headingText
    required property string lastUpdateText
    required property string ageText
    required property string distanceText
    required property bool selected

    signal activated()
    signal removeRequested()

    implicitHeight: content.implicitHeight + 18
    color: root.selected ? Theme.selection : (hover.hovered ? Theme.panelAlt : Theme.panel)

    Rectangle {
        width: 4
        height: parent.height
        color: Theme.stateColor(root.rideState)
    }

    ColumnLayout {
        id: content
        anchors.left: parent.left
        anchors.right: parent.right
        anchors.verticalCenter: parent.verticalCenter
        anchors.leftMargin: 14
        anchors.rightMargin: 8
        spacing: 4

        RowLayout {
            Layout.fillWidth: true
            spacing: Theme.spacing

            Label {
                Layout.fillWidth: true
                text: root.slug
                font.pixelSize: Theme.fontLarge - 2
                font.bold: true
                color: Theme.text
                elide: Text.ElideRight
            }
            StateBadge {
                rideState: root.rideState
            }
            ToolButton {
                objectName: "removeRide"
                text: "×"
                font.pixelSize: Theme.fontLarge
                implicitWidth: 26
                implicitHeight: 26
                ToolTip.visible: hovered
                ToolTip.text: qsTr("Stop following %1").arg(root.slug)
                onClicked: root.removeRequested()
            }
        }
        GridLayout {
            Layout.fillWidth: true
            columns: 4
            columnSpacing: 14
            rowSpacing: 2

            Label { text: qsTr("Speed"); color: Theme.textMuted; font.pixelSize: Theme.fontSmall }
            Label {
                objectName: "speed"
                text: root.speedText
                color: Theme.text
                font.pixelSize: Theme.fontNormal
                Layout.fillWidth: true
            }
            Label { text: qsTr("Heading"); color: Theme.textMuted; font.pixelSize: Theme.fontSmall }
            Label {
                objectName: "heading"
                text: root.headingText
                color: Theme.text
                font.pixelSize: Theme.fontNormal
                Layout.fillWidth: true
            }
            Label { text: qsTr("Updated"); color: Theme.textMuted; font.pixelSize: Theme.fontSmall }
            Label {
                objectName: "lastUpdate"
                text: root.lastUpdateText === "–" ? "–" : root.lastUpdateText + " (" + root.ageText + ")"
                color: Theme.text
                font.pixelSize: Theme.fontNormal
                Layout.fillWidth: true
            }
            Label { text: qsTr("Distance"); color: Theme.textMuted; font.pixelSize: Theme.fontSmall }
            Label {
                objectName: "distance"
                text: root.distanceText
                color: Theme.text
                font.pixelSize: Theme.fontNormal
                Layout.fillWidth: true
            }
        }
    }

    Rectangle {
        anchors.bottom: parent.bottom
        width: parent.width
        height: 1
        color: Theme.divider
    }

    HoverHandler {
        id: hover
    }
    TapHandler {
        onTapped: root.activated()
    }
}
