import QtQuick
import QtPositioning
import Omw.Console.Core

// A slippy Web Mercator map: drag to pan, wheel or pinch to zoom around the pointer,
// double-click to zoom in, arrow keys to pan, + and - to zoom. Children are laid over the
// tiles; they place themselves with toView().
Item {
    id: root

    property var center: QtPositioning.coordinate(48.1374, 11.5755)
    property real zoom: 11
    property TileSource tileSource: null
    property bool graticule: false
    property int keyboardPanStep: 120
    // Zoom change per wheel notch (120 units of angleDelta).
    property real wheelStep: 0.5
    readonly property bool interacting: dragHandler.active || pinchHandler.active
    readonly property real minimumZoom: Math.max(WebMercator.minimumZoom, tileLayer.source ? tileLayer.source.minimumZoom - 2 : 0)
    readonly property real maximumZoom: WebMercator.maximumZoom
    readonly property bool tilesComplete: tileLayer.complete
    default property alias content: overlay.data

    // Emitted when the dispatcher moves the map by hand (to stop following a ride).
    signal userMoved()

    function toView(coordinate: var): point {
        return WebMercator.toView(coordinate, root.center, root.zoom, root.width, root.height)
    }
    function fromView(x: real, y: real): var {
        return WebMercator.fromView(x, y, root.center, root.zoom, root.width, root.height)
    }
    function panBy(dx: real, dy: real) {
        root.center = WebMercator.centerAfterPan(dx, dy, root.center, root.zoom)
    }
    function zoomAround(x: real, y: real, newZoom: real) {
        const clamped = Math.min(root.maximumZoom, Math.max(root.minimumZoom, newZoom))
        root.center = WebMercator.centerForZoomAround(x, y, root.center, root.zoom, clamped,
                                                      root.width, root.height)
        root.zoom = clamped
    }
    function zoomBy(delta: real) {
        zoomAround(root.width / 2, root.height / 2, Math.round((root.zoom + delta) * 4) / 4)
    }
    function fit(coordinates: var, margin: real, maximumZoom: real) {
        if (coordinates.length === 0)
            return
        const fitted = WebMercator.fit(coordinates, root.width, root.height, margin, maximumZoom)
        root.center = fitted.center
        root.zoom = fitted.zoom
    }

    clip: true
    focus: true
    activeFocusOnTab: true

    Keys.onPressed: (event) => {
        switch (event.key) {
        case Qt.Key_Left:
            root.panBy(root.keyboardPanStep, 0)
            break
        case Qt.Key_Right:
            root.panBy(-root.keyboardPanStep, 0)
            break
        case Qt.Key_Up:
            root.panBy(0, root.keyboardPanStep)
            break
        case Qt.Key_Down:
            root.panBy(0, -root.keyboardPanStep)
            break
        case Qt.Key_Plus:
        case Qt.Key_Equal:
            root.zoomBy(1)
            break
        case Qt.Key_Minus:
        case Qt.Key_Underscore:
            root.zoomBy(-1)
            break
        default:
            return
        }
        root.userMoved()
        event.accepted = true
    }

    TileLayer {
        id: tileLayer
        objectName: "tileLayer"
        anchors.fill: parent
        source: root.tileSource
        center: root.center
        zoom: root.zoom
        graticule: root.graticule
    }

    Item {
        id: overlay
        anchors.fill: parent
    }

    DragHandler {
        id: dragHandler

        property vector2d previous: Qt.vector2d(0, 0)

        target: null
        // Below a pinch, a drag pans; two fingers belong to the pinch handler.
        maximumPointCount: 1
        onActiveChanged: {
            previous = Qt.vector2d(0, 0)
            root.forceActiveFocus()
        }
        onTranslationChanged: {
            const delta = translation.minus(previous)
            previous = translation
            root.panBy(delta.x, delta.y)
            root.userMoved()
        }
    }

    PinchHandler {
        id: pinchHandler

        property real startZoom: 0

        target: null
        minimumPointCount: 2
        onActiveChanged: {
            if (active)
                startZoom = root.zoom
        }
        onActiveScaleChanged: {
            if (!active)
                return
            root.zoomAround(centroid.position.x, centroid.position.y,
                            startZoom + Math.log2(activeScale))
            root.userMoved()
        }
    }

    WheelHandler {
        id: wheelHandler
        target: null
        acceptedDevices: PointerDevice.Mouse | PointerDevice.TouchPad
        onWheel: (event) => {
            root.zoomAround(point.position.x, point.position.y,
                            root.zoom + event.angleDelta.y / 120 * root.wheelStep)
            root.userMoved()
        }
    }

    TapHandler {
        id: tapHandler

        property real lastTapTime: 0
        property point lastTapPosition: Qt.point(0, 0)

        // Double taps are told apart by wall-clock time, not by the events' timestamps:
        // Qt Test spaces synthetic clicks by more than the double-click interval.
        onTapped: (eventPoint) => {
            root.forceActiveFocus()
            const now = Date.now()
            const position = eventPoint.position
            const near = Math.abs(position.x - lastTapPosition.x) < 8
                && Math.abs(position.y - lastTapPosition.y) < 8
            if (now - lastTapTime < Qt.styleHints.mouseDoubleClickInterval && near) {
                lastTapTime = 0
                root.zoomAround(position.x, position.y, Math.floor(root.zoom) + 1)
                root.userMoved()
                return
            }
            lastTapTime = now
            lastTapPosition = position
        }
    }
}
