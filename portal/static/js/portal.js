// Starts GOV.UK Frontend's components and re-starts them in content that htmx swaps in.
import { initAll } from '../vendor/govuk-frontend-6.3.0/govuk-frontend.min.js'

initAll()

document.addEventListener('htmx:afterSettle', (event) => {
  initAll({ scope: event.detail.elt })
})
