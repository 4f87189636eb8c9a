// Online forms: a map for "point on a map" answers (the latitude and longitude boxes work without it).
const maps = document.querySelectorAll('.forms-map')

function start (holder) {
  if (!window.L) return
  const lat = document.getElementById(holder.dataset.latInput)
  const lng = document.getElementById(holder.dataset.lngInput)
  holder.hidden = false
  const centre = [parseFloat(lat.value) || 52.96, parseFloat(lng.value) || -1.51]
  const map = window.L.map(holder).setView(centre, 14)
  window.L.tileLayer(holder.dataset.tiles, { attribution: holder.dataset.attribution, maxZoom: 19 }).addTo(map)
  let marker = lat.value ? window.L.marker(centre).addTo(map) : null
  map.on('click', (event) => {
    lat.value = event.latlng.lat.toFixed(6)
    lng.value = event.latlng.lng.toFixed(6)
    if (marker) marker.setLatLng(event.latlng)
    else marker = window.L.marker(event.latlng).addTo(map)
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
