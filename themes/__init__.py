"""Theme files shipped with papershelf: one TOML file per Textual theme.

`tui.themes.load_themes` reads them with importlib.resources, so they load the same from a
checkout, a wheel or a zip. Users add their own files of the same shape to the config
directory's themes/ folder.
"""
