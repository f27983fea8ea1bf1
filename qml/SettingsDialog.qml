import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Omw.Console.Core

// Server, map tiles and display units. Changes are applied and saved on OK.
Dialog {
    id: root

    required property ConsoleController controller

    title: qsTr("Settings")
    modal: true
    standardButtons: Dialog.Ok | Dialog.Cancel
    width: 460

    onAboutToShow: {
        serverField.text = root.controller.serverUrl
        tilesField.text = root.controller.tiles
        unitBox.currentIndex = Math.max(0, unitBox.model.indexOf(root.controller.settings.speedUnit))
        staleBox.value = root.controller.settings.staleAfter
    }
    onAccepted: {
        root.controller.useServer(serverField.text)
        root.controller.useTiles(tilesField.text)
        root.controller.settings.speedUnit = unitBox.currentText
        root.controller.settings.staleAfter = staleBox.value
    }

    GridLayout {
        anchors.fill: parent
        columns: 2
        columnSpacing: 12
        rowSpacing: 10

        Label { text: qsTr("Server") }
        TextField {
            id: serverField
            Layout.fillWidth: true
            placeholderText: "ws://127.0.0.1:4000/socket"
            selectByMouse: true
        }
        Label { text: qsTr("Map tiles") }
        TextField {
            id: tilesField
            Layout.fillWidth: true
            placeholderText: qsTr("URL template, .mbtiles file or none")
            selectByMouse: true
        }
        Item { Layout.preferredWidth: 1 }
        Label {
            Layout.fillWidth: true
            wrapMode: Text.WordWrap
            font.pixelSize: Theme.fontSmall
            color: Theme.textMuted
            text: qsTr("An http(s) template with {z}, {x} and {y}, a path to an .mbtiles file, or \"none\" for a plain map with a latitude/longitude grid.")
        }
        Label { text: qsTr("Speed unit") }
        ComboBox {
            id: unitBox
            Layout.fillWidth: true
            model: ["km/h", "mph", "kn"]
        }
        Label { text: qsTr("Stale after") }
        SpinBox {
            id: staleBox
            from: 5
            to: 3600
            stepSize: 5
            editable: true
            textFromValue: (value) => qsTr("%1 s").arg(value)
            valueFromText: (text) => parseInt(text)
        }
    }
}
