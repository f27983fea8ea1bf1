import QtQuick

// The tile provider's attribution in the map's corner, as tile usage policies require.
Rectangle {
    id: root

    required property string attribution

    objectName: "attribution"
    visible: root.attribution.length > 0
    implicitWidth: label.implicitWidth + 12
    implicitHeight: label.implicitHeight + 4
    color: Qt.rgba(1, 1, 1, 0.8)

    Text {
        id: label
        anchors.centerIn: parent
        text: root.attribution
        font.pixelSize: Theme.fontSmall
        color: "#333333"
    }
}
