"""Getting reviewed images out: files named for every OS, the decision as XMP, a manifest.

Qt-free. The engine is `exporter.export_images` (its module docstring says how it behaves);
`download_to` fetches one image into a file (a drag out of the window). The window and the
headless `qamera-desktop export` command both use these. Nothing is imported here: the settings
and profiles use `files.write_atomically` without loading the engine at start.
"""
