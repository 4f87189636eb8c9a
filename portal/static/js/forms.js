// Online forms: a map for "point on a map" answers (the latitude and longitude boxes work without it).
// The map is a labelled application region: arrow keys move it, + and − zoom, Enter puts the
// point at the centre (under the cross-hair), and the chosen point is announced.
const maps = document.querySelectorAll('.forms-map')

// Leaflet names its zoom buttons "Zoom in"/"Zoom out" while showing "+"/"−": the name must
// contain what is seen (WCAG 2.5.3).
function nameZoomButtons (container) {
  const zoomIn = container.querySelector('.leaflet-control-zoom-in')
  const zoomOut = container.querySelector('.leaflet-control-zoom-out')
  if (zoomIn) zoomIn.setAttribute('aria-label', '+ Zoom in')
  if (zoomOut) zoomOut.setAttribute('aria-label', '− Zoom out')
}

function start (holder) {
  if (!window.L) return
  const lat = document.getElementById(holder.dataset.latInput)
  const lng = document.getElementById(holder.dataset.lngInput)
  const status = document.getElementById(holder.dataset.status)
  holder.hidden = false
  document.getElementById(holder.dataset.help).hidden = false
  const centre = [parseFloat(lat.value) || 52.96, parseFloat(lng.value) || -1.51]
  const map = window.L.map(holder, { keyboard: true }).setView(centre, 14)
  window.L.tileLayer(holder.dataset.tiles, { attribution: holder.dataset.attribution, maxZoom: 19 }).addTo(map)
  const container = map.getContainer()
  container.setAttribute('role', 'application')
  container.setAttribute('aria-roledescription', 'map')
  container.setAttribute('aria-label', holder.dataset.label)
  container.setAttribute('aria-describedby', holder.dataset.help)
  nameZoomButtons(container)
  let marker = lat.value ? window.L.marker(centre, { keyboard: false }).addTo(map) : null

  function choose (latlng) {
    lat.value = latlng.lat.toFixed(6)
    lng.value = latlng.lng.toFixed(6)
    if (marker) marker.setLatLng(latlng)
    else marker = window.L.marker(latlng, { keyboard: false }).addTo(map)
    status.textContent = 'Point chosen: latitude ' + lat.value + ', longitude ' + lng.value + '.'
  }

  map.on('click', (event) => choose(event.latlng))
  container.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && event.target === container) {
      event.preventDefault()
      choose(map.getCenter())
    }
  })
}

maps.forEach((holder) => {
  const details = holder.closest('details')
  if (details && !details.open) {
    details.addEventListener('toggle', () => { if (!holder.dataset.started) { holder.dataset.started = '1'; start(holder) } }, { once: true })
  } else {
    holder.dataset.started = '1'
    start(holder)
  }
})
