; Inno Setup script for FaceLens on Windows (not built in this project's CI).
; 1. In a Windows venv: pip install facelens-*.whl pyinstaller, then `facelens doctor` and the
;    fixes it prints. 2. pyinstaller --noconfirm --distpath build\pyinstaller\dist
;    --workpath build\pyinstaller\work packaging\pyinstaller\facelens.spec
; 3. iscc packaging\windows\facelens.iss  -> build\installer\FaceLens-0.1.0-setup.exe
#define AppVersion "0.1.0"
#define BundleDir "..\..\build\pyinstaller\dist\FaceLens"

[Setup]
AppId={{6C0B9E2A-3F4D-4B8E-9A57-FACE1E5A0001}
AppName=FaceLens
AppVersion={#AppVersion}
AppPublisher=FaceLens contributors
DefaultDirName={autopf}\FaceLens
DefaultGroupName=FaceLens
OutputDir=..\..\build\installer
OutputBaseFilename=FaceLens-{#AppVersion}-setup
Compression=lzma2
SolidCompression=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
PrivilegesRequiredOverridesAllowed=dialog
UninstallDisplayIcon={app}\facelens.exe

[Tasks]
Name: "desktopicon"; Description: "Create a desktop shortcut"; Flags: unchecked

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\FaceLens"; Filename: "{app}\facelens.exe"
Name: "{group}\Uninstall FaceLens"; Filename: "{uninstallexe}"
Name: "{autodesktop}\FaceLens"; Filename: "{app}\facelens.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\facelens.exe"; Description: "Start FaceLens"; Flags: nowait postinstall skipifsilent
