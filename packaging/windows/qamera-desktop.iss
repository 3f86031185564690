; Inno Setup 6 script: the Windows installer of Qamera Desktop, per user (no administrator rights).
; .github/workflows/release.yml compiles it after PyInstaller has built dist\qamera-desktop\:
;   iscc packaging\windows\qamera-desktop.iss
; The version is read from the executable's version resource, which packaging/qamera-desktop.spec
; writes from qamera_desktop/__init__.py (/DAppVersion=x.y.z overrides it). With /DSign and a
; sign tool named qamerasign (/Sqamerasign=...), the installer and its uninstaller are signed.

#define AppName "Qamera Desktop"
#define AppExeName "qamera-desktop.exe"
#define SourceDir "..\..\dist\qamera-desktop"
#define AppExe SourceDir + "\" + AppExeName
#ifndef AppVersion
  #define AppVersion GetStringFileInfo(AppExe, "ProductVersion")
#endif
#define AppNumericVersion GetVersionNumbersString(AppExe)
; the designer's data (qamera_desktop/core/app_paths.py): settings, the local library with the
; review decisions, the demo sandbox and the thumbnail cache
#define UserDataDir "{localappdata}\qamera-desktop"

[Setup]
; the same AppId in every version: a new installer upgrades the installed app in place
AppId={{6F1D3C2B-8A47-4E59-9C1E-2B7D5A3F8E41}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Qamera AI
AppPublisherURL=https://app.qamera.ai
AppSupportURL=https://app.qamera.ai
VersionInfoVersion={#AppNumericVersion}
VersionInfoProductVersion={#AppNumericVersion}
VersionInfoProductTextVersion={#AppVersion}
VersionInfoCompany=Qamera AI
VersionInfoDescription={#AppName} Setup
VersionInfoProductName={#AppName}
; per user: installs into %LOCALAPPDATA%\Programs without asking for administrator rights
PrivilegesRequired=lowest
DefaultDirName={autopf}\{#AppName}
DisableProgramGroupPage=yes
UninstallDisplayName={#AppName}
UninstallDisplayIcon={app}\{#AppExeName}
SetupIconFile=..\..\resources\icons\app.ico
WizardStyle=modern
Compression=lzma2/max
SolidCompression=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
; an upgrade or uninstall closes a running Qamera Desktop first
CloseApplications=yes
RestartApplications=no
OutputDir=..\..\dist
OutputBaseFilename=qamera-desktop-{#AppVersion}-windows-x64-setup
#ifdef Sign
SignTool=qamerasign
SignedUninstaller=yes
#endif

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[InstallDelete]
; an upgrade replaces the bundled libraries as a whole: none of the old version's stay behind
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExeName}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExeName}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExeName}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[Code]
{ The uninstaller removes the program and keeps the designer's data, unless they say otherwise:
  their picks, rejects, stars and labels live only on this computer. A silent uninstall keeps it,
  unless run with /DELETEUSERDATA=yes. }
var
  DeleteUserData: Boolean;

function InitializeUninstall(): Boolean;
var
  DataDir: String;
begin
  Result := True;
  DataDir := ExpandConstant('{#UserDataDir}');
  DeleteUserData := False;
  if not DirExists(DataDir) then
    Exit;
  if UninstallSilent() then
    DeleteUserData := ExpandConstant('{param:DELETEUSERDATA|no}') <> 'no'
  else
    DeleteUserData := MsgBox(
      'Also delete your Qamera Desktop data from this computer?' + #13#10 + #13#10 +
      'Your review decisions (picks, rejects, stars, labels), your settings and the cached ' +
      'thumbnails in' + #13#10 + DataDir + #13#10 + #13#10 +
      'Choose No to keep them for a later installation. Your shoots and images on Qamera ' +
      'are not affected either way.',
      mbConfirmation, MB_YESNO or MB_DEFBUTTON2) = IDYES;
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  if (CurUninstallStep = usPostUninstall) and DeleteUserData then
    DelTree(ExpandConstant('{#UserDataDir}'), True, True, True);
end;
