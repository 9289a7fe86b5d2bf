"""The JSON API (issue 16 item 8): a face like web/ and cli/, calling services and selectors only."""
