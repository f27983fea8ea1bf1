import QtQuick
import QtQuick.Layouts
import Omw.Console.Core

// The console's own connection state, always on screen: a coloured dot, the state and the
// server; the dispatch channel's state when a dispatcher token is set.
Rectangle {
    id: root

    required property int connectionState
    required property int dispatchState
    required property string serverUrl
    required property int reconnectAttempt

    readonly property color dotColor: {
        switch (root.connectionState) {
        case RideTracker.Connected:
            return Theme.good
        case RideTracker.Connecting:
        case RideTracker.Reconnecting:
            return Theme.warning
        default:
            return Theme.danger
        }
    }
    readonly property string stateText: {
        switch (root.connectionState) {
        case RideTracker.Connected:
            return qsTr("Connected")
        case RideTracker.Connecting:
            return qsTr("Connecting…")
        case RideTracker.Reconnecting:
            return root.reconnectAttempt > 0 ? qsTr("Reconnecting (attempt %1)…").arg(root.reconnectAttempt)
                                             : qsTr("Reconnecting…")
        default:
            return qsTr("Disconnected")
        }
    }
    readonly property string dispatchText: {
        switch (root.dispatchState) {
        case RideTracker.DispatchJoining:
            return qsTr("dispatch: joining")
        case RideTracker.DispatchJoined:
            return qsTr("dispatch: all rides")
        case RideTracker.DispatchRejected:
            return qsTr("dispatch: token refused")
        default:
            return ""
        }
    }

    objectName: "connectionIndicator"
    implicitWidth: row.implicitWidth + 20
    implicitHeight: row.implicitHeight + 12
    radius: height / 2
    color: Qt.rgba(1, 1, 1, 0.94)
    border.color: Theme.divider

    RowLayout {
        id: row
        anchors.centerIn: parent
        spacing: 8

        Rectangle {
            implicitWidth: 10
            implicitHeight: 10
            radius: 5
            color: root.dotColor

            SequentialAnimation on opacity {
                running: root.connectionState !== RideTracker.Connected
                loops: Animation.Infinite
                NumberAnimation { to: 0.3; duration: 600 }
                NumberAnimation { to: 1; duration: 600 }
            }
        }
        Text {
            text: root.stateText
            font.pixelSize: Theme.fontNormal
            font.bold: true
            color: Theme.text
        }
        Text {
            text: root.serverUrl
            font.pixelSize: Theme.fontSmall
            color: Theme.textMuted
        }
        Text {
            visible: root.dispatchText.length > 0
            text: "· " + root.dispatchText
            font.pixelSize: Theme.fontSmall
            color: root.dispatchState === RideTracker.DispatchRejected ? Theme.danger : Theme.textMuted
        }
    }
}
