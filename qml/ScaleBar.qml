import QtQuick
import Omw.Console.Core

// A scale bar for the map's centre latitude, at most maximumWidth pixels long.
Item {
    id: root

    required property real latitude
    required property real zoom
    property real maximumWidth: 120

    readonly property real metresPerPixel: WebMercator.metresPerPixel(root.latitude, root.zoom)
    // The longest 1-2-5 step that fits.
    readonly property real metres: {
        const maximum = root.metresPerPixel * root.maximumWidth
        const power = Math.pow(10, Math.floor(Math.log10(maximum)))
        for (const factor of [5, 2, 1]) {
            if (factor * power <= maximum)
                return factor * power
        }
        return power
    }

    implicitWidth: bar.width + 8
    implicitHeight: label.implicitHeight + 10

    Rectangle {
        anchors.fill: parent
        color: Qt.rgba(1, 1, 1, 0.75)
        radius: 3
    }
    Text {
        id: label
        x: 4
        y: 1
        text: root.metres >= 1000 ? (root.metres / 1000) + " km" : root.metres + " m"
        font.pixelSize: Theme.fontSmall
        color: Theme.text
    }
    Rectangle {
        id: bar
        x: 4
        anchors.bottom: parent.bottom
        anchors.bottomMargin: 3
        width: root.metres / root.metresPerPixel
        height: 4
        color: Theme.text
    }
}
