import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

// Zoom in, zoom out and fit all rides, stacked in a card over the map.
Rectangle {
    id: root

    signal zoomInRequested()
    signal zoomOutRequested()
    signal fitAllRequested()

    implicitWidth: column.implicitWidth + 8
    implicitHeight: column.implicitHeight + 8
    radius: Theme.radius
    color: Qt.rgba(1, 1, 1, 0.94)
    border.color: Theme.divider

    ColumnLayout {
        id: column
        anchors.centerIn: parent
        spacing: 0

        ToolButton {
            objectName: "zoomIn"
            text: "+"
            font.pixelSize: 18
            ToolTip.visible: hovered
            ToolTip.text: qsTr("Zoom in (+)")
            onClicked: root.zoomInRequested()
        }
        ToolButton {
            objectName: "zoomOut"
            text: "−"
            font.pixelSize: 18
            ToolTip.visible: hovered
            ToolTip.text: qsTr("Zoom out (−)")
            onClicked: root.zoomOutRequested()
        }
        ToolButton {
            objectName: "fitAll"
            text: "⤢"
            font.pixelSize: 16
            ToolTip.visible: hovered
            ToolTip.text: qsTr("Show all rides")
            onClicked: root.fitAllRequested()
        }
    }
}
